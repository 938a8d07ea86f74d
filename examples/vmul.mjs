// c = a * b on whichever device fits, checked against the JavaScript reference
// and timed against it.
//   node examples/vmul.mjs [size]
import * as inaccel from "inaccel";
import { compareExact, timeLine, vectorMultiplication, warm } from "inaccel/reference";


const n = Number(process.argv[2] ?? 1 << 20);
const a = inaccel.alloc(Float32Array, n);
const b = inaccel.alloc(Float32Array, n);
const c = inaccel.alloc(Float32Array, n);
for (let i = 0; i < n; i++) {
  a[i] = Math.random() * 2 - 1;
  b[i] = Math.random() * 2 - 1;
}

const device = await warm(() => inaccel.submit(inaccel.request("vector.multiplication").arg(a).arg(b).arg(c).arg(n)));
const js = await warm(() => vectorMultiplication(a, b, n));

const check = compareExact(c, js.value);
const { name, platform } = device.value.device;
console.log(`${check.ok ? "PASS" : "FAIL"} vector.multiplication n=${n} on ${name} (${platform.name}): ` +
  `${device.ms.toFixed(2)} ms; ${check.summary}`);
console.log(timeLine("vector.multiplication", device.ms, js.ms, device.firstMs));
process.exitCode = check.ok ? 0 : 1;
