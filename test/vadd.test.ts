import { expect } from "chai";
import * as inaccel from "../src/index";
import { allInFlight } from "./helpers/in-flight";

function fill(array: Float32Array, seed: number): void {
  for (let i = 0; i < array.length; i++) array[i] = ((i * 7919 + seed) % 1000) / 8;
}

async function vadd(n: number, make: (n: number) => Float32Array) {
  const a = make(n), b = make(n), c = make(n);
  fill(a, 1);
  fill(b, 2);
  c.fill(-1);
  const result = await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
  for (let i = 0; i < n; i++) {
    if (c[i] !== Math.fround(a[i]! + b[i]!)) throw new Error(`c[${i}] = ${c[i]}, want ${a[i]! + b[i]!}`);
  }
  return result;
}

describe("vector.addition on PoCL", () => {
  it("lists the two PoCL devices", () => {
    const devices = inaccel.devices();
    expect(devices).to.have.length(2);
    for (const device of devices) {
      expect(device.backend).to.equal("opencl");
      expect(device.type).to.equal("cpu");
      expect(device.platform.name).to.equal("Portable Computing Language");
      expect(device.compiler).to.equal(true);
      expect(device.memory).to.be.greaterThan(0);
    }
    expect(devices[0]!.key).to.not.equal(devices[1]!.key);
  });

  for (const n of [1, 1000, 1 << 20, 1000003]) {
    it(`adds ${n} floats in alloc()ed memory`, async () => {
      const result = await vadd(n, (k) => inaccel.alloc(Float32Array, k));
      expect(result.accelerator).to.equal("vector.addition");
      expect(result.runMs).to.be.greaterThan(0);
    });
  }

  it("adds plain Float32Arrays and Buffer-backed views too", async () => {
    await vadd(4099, (k) => new Float32Array(k));
    await vadd(77, (k) => new Float32Array(Buffer.alloc(k * 4).buffer, 0, k));
  });

  // An output-only argument longer than its length: the kernel writes the
  // first `size` elements, and the rest of the array is left as it was. It
  // came back as the pooled device buffer's earlier contents; with a
  // length of 0, the whole array did.
  it("leaves an output array's elements past the kernel's length as they were", async () => {
    for (const device of inaccel.devices()) {
      for (const make of [(k: number) => new Float32Array(k), (k: number) => inaccel.alloc(Float32Array, k)]) {
        const full = () => inaccel.request("vector.addition").arg(make(64).fill(2)).arg(make(64).fill(3)).arg(make(64)).arg(64);
        await inaccel.submit(full(), { device: device.id });  // the pool's buffers now hold 5s
        for (const size of [0, 1, 2, 63]) {
          const c = make(64).fill(9);
          await inaccel.submit(inaccel.request("vector.addition").arg(make(64).fill(1)).arg(make(64).fill(2)).arg(c).arg(size), { device: device.id });
          expect([...c], `size ${size} on device ${device.id}`).to.deep.equal([...Array(size).fill(3), ...Array(64 - size).fill(9)]);
        }
      }
    }
  });

  // Requests of many sizes in flight together share a device's batches,
  // and its staging areas: each must run with its own size and slices.
  it("runs requests of different sizes in the same batches, each with its own size", async () => {
    const sizes = Array.from({ length: 600 }, (_, j) => 1 + ((j * 37) % 64));
    await allInFlight(sizes.length, (j) => {
      const a = new Float32Array(64).fill(j), b = new Float32Array(64).fill(1), c = new Float32Array(64).fill(-1);
      return { c, done: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(sizes[j]!)) };
    }, ({ c }, j) => {
      const n = sizes[j]!;
      expect([...c], `request ${j} of size ${n}`).to.deep.equal([...Array(n).fill(j + 1), ...Array(64 - n).fill(-1)]);
    });
  });

  it("alloc() gives zeroed, page-aligned typed arrays of the asked type", () => {
    const x = inaccel.alloc(Int32Array, 10);
    expect(x).to.be.instanceOf(Int32Array);
    expect(x.length).to.equal(10);
    expect([...x]).to.deep.equal(new Array(10).fill(0));
    const y = inaccel.alloc(Float64Array, 3);
    expect(y.byteLength).to.equal(24);
  });

  it("runs 1000 concurrent requests, all correct, spread over both devices", async () => {
    const n = 256;
    const used = new Map<number, number>();
    await allInFlight(1000, (j) => {
      const a = inaccel.alloc(Float32Array, n), b = inaccel.alloc(Float32Array, n), c = inaccel.alloc(Float32Array, n);
      a.fill(j);
      b.fill(0.5);
      return { c, done: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)) };
    }, ({ c }, j, result) => {
      used.set(result.device.id, (used.get(result.device.id) ?? 0) + 1);
      expect(c.every((v) => v === j + 0.5), `request ${j}`).to.equal(true);
    });
    expect([...used.keys()].sort()).to.deep.equal([0, 1]);
    for (const count of used.values()) expect(count).to.be.greaterThan(100);
  });

  it("runs on the device asked for", async () => {
    for (const id of [0, 1]) {
      const a = inaccel.alloc(Float32Array, 8), c = inaccel.alloc(Float32Array, 8);
      a.fill(2);
      const result = await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(c).arg(8), { device: id });
      expect(result.device.id).to.equal(id);
      expect([...c]).to.deep.equal(new Array(8).fill(4));
    }
  });
});
