// c = a + b on whichever device fits, checked against the JavaScript reference
// and timed against it.
//   node examples/vadd.mjs [size]
import * as inaccel from "inaccel";
import { compareExact, timeLine, vectorAddition, warm } from "inaccel/reference";


const n = Number(process.argv[2] ?? 1 << 20);
const a = inaccel.alloc(Float32Array, n);
const b = inaccel.alloc(Float32Array, n);
const c = inaccel.alloc(Float32Array, n);
for (let i = 0; i < n; i++) {
  a[i] = Math.random();
  b[i] = Math.random();
}

const device = await warm(() => inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)));
const js = await warm(() => vectorAddition(a, b, n));

const check = compareExact(c, js.value);
const { name, platform } = device.value.device;
console.log(`${check.ok ? "PASS" : "FAIL"} vector.addition n=${n} on ${name} (${platform.name}): ` +
  `${device.ms.toFixed(2)} ms; ${check.summary}`);
console.log(timeLine("vector.addition", device.ms, js.ms, device.firstMs));
process.exitCode = check.ok ? 0 : 1;
