// Trains a logistic-regression model by gradient descent, the gradients
// computed by ml.logisticregression.gradients (the seed's Spark ML kernel)
// and each checked against the JavaScript reference; both sides are timed
// per iteration.
//   node examples/logistic-regression.mjs [n] [d] [iterations]   (default 100000 64 20)
import * as inaccel from "inaccel";
import { compareClose, logisticRegressionGradients, SUM_TOLERANCE, timeLine } from "inaccel/reference";

const n = Number(process.argv[2] ?? 100_000);
const d = Number(process.argv[3] ?? 64);
const iterations = Number(process.argv[4] ?? 20);
const learningRate = 4;

// Samples in [-1, 1)^d labelled by a hidden model, with some noise.
const hidden = Array.from({ length: d }, () => Math.random() * 2 - 1);
const X = inaccel.alloc(Float32Array, n * d);
const labels = inaccel.alloc(Float32Array, n);
for (let i = 0; i < n; i++) {
  let z = 0;
  for (let j = 0; j < d; j++) z += (X[i * d + j] = Math.random() * 2 - 1) * hidden[j];
  labels[i] = Math.random() < 1 / (1 + Math.exp(-4 * z)) ? 1 : 0;
}

const accuracy = (w) => {
  let right = 0;
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += X[i * d + j] * w[j];
    if ((z > 0 ? 1 : 0) === labels[i]) right++;
  }
  return right / n;
};

const w = inaccel.alloc(Float32Array, d);
const grad = inaccel.alloc(Float32Array, d);
const gradients = () =>
  inaccel.submit(inaccel.request("ml.logisticregression.gradients").arg(X).arg(labels).arg(w).arg(grad).arg(n).arg(d));

// One untimed submit first: it builds the program (or loads it from the
// cache) and touches the buffers. The iterations are then timed, on the
// device and in plain JavaScript.
let start = performance.now();
await gradients();
const firstMs = performance.now() - start;
let deviceMs = 0;
let jsMs = 0;
let failed = 0;
for (let iteration = 0; iteration < iterations; iteration++) {
  start = performance.now();
  await gradients();
  deviceMs += performance.now() - start;
  start = performance.now();
  const want = logisticRegressionGradients(X, labels, w, n, d);
  jsMs += performance.now() - start;
  const check = compareClose(grad, want, SUM_TOLERANCE);
  if (!check.ok) {
    failed++;
    console.log(`FAIL iteration ${iteration}: ${check.summary}`);
  }
  for (let j = 0; j < d; j++) w[j] -= learningRate * grad[j];
}
deviceMs /= iterations;
jsMs /= iterations;
console.log(`${failed === 0 ? "PASS" : "FAIL"} ml.logisticregression.gradients n=${n} d=${d}: ${iterations} iterations, ` +
  `${deviceMs.toFixed(2)} ms each; training accuracy ${(100 * accuracy(w)).toFixed(1)}%`);
console.log(timeLine("ml.logisticregression.gradients", deviceMs, jsMs, firstMs));
process.exitCode = failed === 0 ? 0 : 1;
