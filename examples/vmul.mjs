// c = a * b on whichever device fits, checked against the JavaScript reference.
//   node examples/vmul.mjs [size]
import * as inaccel from "inaccel";
import { compareExact, vectorMultiplication } from "../dist/reference/index.js";

const n = Number(process.argv[2] ?? 1 << 20);
const a = inaccel.alloc(Float32Array, n);
const b = inaccel.alloc(Float32Array, n);
const c = inaccel.alloc(Float32Array, n);
for (let i = 0; i < n; i++) {
  a[i] = Math.random() * 2 - 1;
  b[i] = Math.random() * 2 - 1;
}

const start = performance.now();
const result = await inaccel.submit(inaccel.request("vector.multiplication").arg(a).arg(b).arg(c).arg(n));
const ms = performance.now() - start;

const check = compareExact(c, vectorMultiplication(a, b, n));
console.log(`${check.ok ? "PASS" : "FAIL"} vector.multiplication n=${n} on ${result.device.name} ` +
  `(${result.device.platform.name}): ${ms.toFixed(2)} ms; ${check.summary}`);
process.exitCode = check.ok ? 0 : 1;
