/** The attack matrix of matrix.ts against the embedded local store. */
import { attackMatrix } from "./matrix.js";

attackMatrix("local");
