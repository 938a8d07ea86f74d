// C = A * B for row-major float matrices (the "deep learning" case), checked
// against the JavaScript reference and timed against it.
//   node examples/gemm.mjs [M] [N] [K]        (default 512 512 512)
import * as inaccel from "inaccel";
import { compareClose, gemm, SUM_TOLERANCE, timeLine, warm } from "inaccel/reference";


const [M, N, K] = [2, 3, 4].map((i) => Number(process.argv[i] ?? 512));
const random = (length) => {
  const array = inaccel.alloc(Float32Array, length);
  for (let i = 0; i < length; i++) array[i] = Math.random() * 2 - 1;
  return array;
};
const A = random(M * K);
const B = random(K * N);
const C = inaccel.alloc(Float32Array, M * N);

const device = await warm(() => inaccel.submit(inaccel.request("linalg.gemm").arg(A).arg(B).arg(C).arg(M).arg(N).arg(K)));
const js = await warm(() => gemm(A, B, M, N, K));

const check = compareClose(C, js.value, SUM_TOLERANCE);
const result = device.value;
const gflops = (2 * M * N * K) / (result.runMs * 1e6);
console.log(`${check.ok ? "PASS" : "FAIL"} linalg.gemm ${M}x${K} * ${K}x${N} on ${result.device.name} ` +
  `(${result.device.platform.name}): ${device.ms.toFixed(2)} ms, ${result.runMs.toFixed(2)} ms on the device ` +
  `(${gflops.toFixed(1)} GFLOP/s with transfers); ${check.summary}`);
console.log(timeLine("linalg.gemm", device.ms, js.ms, device.firstMs));
process.exitCode = check.ok ? 0 : 1;
