// The seed's ConvFilter: a 5x5 Gaussian blur of the Y, U and V planes of
// YUV 4:2:0 frames. The seed ran the planes one after another under
// `#pragma omp`; here every plane of every frame is submitted at once and the
// library spreads them over the devices. Each plane is checked bit for bit
// against the JavaScript reference, and the batch is timed against the
// reference run over the same planes.
//   node examples/filter2d.mjs [width] [height] [frames]   (default 1920 1080 4)
import * as inaccel from "inaccel";
import { compareExact, filter2d, timeLine, warm } from "inaccel/reference";


const width = Number(process.argv[2] ?? 1920);
const height = Number(process.argv[3] ?? 1080);
const frames = Number(process.argv[4] ?? 4);

// Outer product of the binomial row 1 4 6 4 1: sums to 256.
const ksize = 5;
const row = [1, 4, 6, 4, 1];
const coeffs = inaccel.alloc(Int16Array, ksize * ksize);
for (let i = 0; i < ksize; i++) for (let j = 0; j < ksize; j++) coeffs[i * ksize + j] = row[i] * row[j];
const factor = 1 / 256;
const bias = 0;

const planes = [];
for (let frame = 0; frame < frames; frame++) {
  for (const [name, w, h] of [["Y", width, height], ["U", width >> 1, height >> 1], ["V", width >> 1, height >> 1]]) {
    const src = inaccel.alloc(Uint8Array, w * h);
    const dst = inaccel.alloc(Uint8Array, w * h);
    for (let i = 0; i < src.length; i++) src[i] = Math.random() * 256;
    planes.push({ name: `frame ${frame} ${name}`, w, h, src, dst });
  }
}

const device = await warm(() => Promise.all(planes.map(({ w, h, src, dst }) =>
  inaccel.submit(inaccel.request("image.filter2d").arg(coeffs).arg(ksize).arg(factor).arg(bias).arg(w).arg(h).arg(src).arg(dst)))));
const js = await warm(() => planes.map(({ w, h, src }) => filter2d(coeffs, ksize, factor, bias, w, h, src)));

let failed = 0;
const perDevice = new Map();
planes.forEach(({ name, w, h, dst }, i) => {
  const check = compareExact(dst, js.value[i]);
  if (!check.ok) {
    failed++;
    console.log(`FAIL ${name} ${w}x${h}: ${check.summary}`);
  }
  const ran = `${device.value[i].device.id} ${device.value[i].device.name}`;
  perDevice.set(ran, (perDevice.get(ran) ?? 0) + 1);
});
console.log(`${failed === 0 ? "PASS" : "FAIL"} image.filter2d ksize ${ksize} on ${frames} ${width}x${height} YUV 4:2:0 ` +
  `frame(s), ${planes.length} planes: ${device.ms.toFixed(2)} ms`);
for (const [ran, count] of perDevice) console.log(`  device ${ran}: ${count} planes`);
console.log(timeLine("image.filter2d", device.ms, js.ms, device.firstMs));
process.exitCode = failed === 0 ? 0 : 1;
