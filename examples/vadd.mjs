// c = a + b on whichever device fits, checked against plain JavaScript.
//   node examples/vadd.mjs [size]
import * as inaccel from "inaccel";

const n = Number(process.argv[2] ?? 1 << 20);
const a = inaccel.alloc(Float32Array, n);
const b = inaccel.alloc(Float32Array, n);
const c = inaccel.alloc(Float32Array, n);
for (let i = 0; i < n; i++) {
  a[i] = Math.random();
  b[i] = Math.random();
}

const start = performance.now();
const result = await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
const ms = performance.now() - start;

let bad = 0;
for (let i = 0; i < n; i++) if (c[i] !== Math.fround(a[i] + b[i])) bad++;
const device = `${result.device.name} (${result.device.platform.name})`;
console.log(`${bad === 0 ? "PASS" : "FAIL"} vector.addition n=${n} on ${device}: ${ms.toFixed(2)} ms` +
  (bad ? `, ${bad} wrong` : ""));
process.exitCode = bad === 0 ? 0 : 1;
