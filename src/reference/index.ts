/**
 * JavaScript references of the built-in accelerators, for tests, examples
 * and `inaccel run`: each computes what its kernel does, in the same order.
 *
 * @packageDocumentation
 */
export { compareClose, compareExact, type Comparison } from "./compare";
export { filter2d, roundHalfAway, saturateUchar } from "./image";
export { gemm } from "./linalg";
export { logisticRegressionGradients } from "./ml";
export { seededRandom } from "./random";
export { SUM_TOLERANCE, TRIALS, type Trial, type TrialMaker } from "./trials";
export { vectorAddition, vectorMultiplication } from "./vector";
export { timeLine, warm, type Timed } from "./timing";
