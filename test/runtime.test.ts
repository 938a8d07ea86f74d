import { expect } from "chai";
import * as path from "node:path";
import * as inaccel from "../src/index";
import type { NativePlan } from "../src/native";
import { discovered, runtime } from "../src/runtime";
import { runChild } from "./helpers/child";
import { allInFlight } from "./helpers/in-flight";

const vaddScript = (n: number) => `
  const a = inaccel.alloc(Float32Array, ${n}), b = inaccel.alloc(Float32Array, ${n}), c = inaccel.alloc(Float32Array, ${n});
  a.fill(1.5); b.fill(2);
  inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(${n}))
    .then((r) => console.log(c.every((v) => v === 3.5) ? "PASS" : "FAIL", r.device.id))
    .catch((e) => console.log("ERROR", e.code, e.message));`;

describe("runtime", () => {
  it("DEVICE_ERROR names the OpenCL error when a kernel does not build", async () => {
    await inaccel.repository.install(path.join(__dirname, "fixtures", "broken-kernel"));
    const out = inaccel.alloc(Float32Array, 4);
    try {
      await inaccel.submit(inaccel.request("broken.build").arg(out).arg(4));
      expect.fail("the broken kernel ran");
    } catch (error) {
      expect(error).to.be.instanceOf(inaccel.InaccelError);
      expect((error as inaccel.InaccelError).code).to.equal("DEVICE_ERROR");
      expect((error as Error).message).to.contain("CL_BUILD_PROGRAM_FAILURE");
    }
    // The devices go on serving other accelerators.
    const a = inaccel.alloc(Float32Array, 4), c = inaccel.alloc(Float32Array, 4);
    a.fill(1);
    await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(c).arg(4));
    expect([...c]).to.deep.equal([2, 2, 2, 2]);
  });

  it("requests failing and succeeding in the same batches each settle with their own outcome", async () => {
    // One bitstream: requests for its missing kernel fail on the device,
    // beside requests for the present one, batch after batch.
    await inaccel.repository.install(path.join(__dirname, "fixtures", "missing-kernel"));
    await allInFlight(300, (j) => {
      const x = inaccel.alloc(Float32Array, 8).fill(j), y = inaccel.alloc(Float32Array, 8);
      const kernel = j % 3 === 0 ? "partial.absent" : "partial.present";
      const done = inaccel.submit(inaccel.request(kernel).arg(x).arg(y).arg(8))
        .then(() => "ok", (error: inaccel.InaccelError) => `${error.code} ${error.message}`);
      return { y, done };
    }, ({ y }, j, outcome) => {
      if (j % 3 === 0) expect(outcome, `request ${j}`).to.match(/^DEVICE_ERROR .*clCreateKernel\(absent\)/);
      else {
        expect(outcome, `request ${j}`).to.equal("ok");
        expect([...y], `request ${j}`).to.deep.equal(new Array(8).fill(j + 1));
      }
    });
  });

  it("settles thousands of requests finished at once, each with its own result", async () => {
    // More than the addon hands back per settle call (1024): the JS thread is
    // busy submitting while the devices finish the first ones.
    await allInFlight(4000, (j) => {
      const a = inaccel.alloc(Float32Array, 4).fill(j), c = inaccel.alloc(Float32Array, 4);
      return { c, done: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(a).arg(c).arg(4)) };
    }, ({ c }, j) => {
      if (c[0] !== 2 * j || c[3] !== 2 * j) expect.fail(`request ${j}: ${[...c]}`);
    });
  });

  it("loads in several worker_threads at once, each running requests", async () => {
    const child = await runChild(`
      const { Worker } = require("node:worker_threads");
      const code = 'require("tsx/cjs"); const inaccel = require("./src/index.ts");' + ${JSON.stringify(vaddScript(5000))};
      for (let i = 0; i < 4; i++) new Worker(code, { eval: true });
    `);
    const lines = child.stdout.trim().split("\n").sort();
    expect(lines, child.stderr).to.have.length(4);
    for (const line of lines) expect(line).to.match(/^PASS [01]$/);
  });

  it("finds the same devices from worker threads that look at the same moment", async () => {
    // The ICD loader and PoCL set themselves up on first use without a lock:
    // discoveries let go together by one gate crashed the process (SIGSEGV)
    // or found no device before the addon took them one at a time.
    const child = await runChild(`
      const { Worker } = require("node:worker_threads");
      const gate = new Int32Array(new SharedArrayBuffer(4));
      const code = 'require("tsx/cjs"); const addon = require("./src/native.ts").native();' +
        'const { workerData, parentPort } = require("node:worker_threads"); parentPort.postMessage("ready");' +
        'Atomics.wait(workerData.gate, 0, 0); parentPort.postMessage(addon.discover().devices.length);';
      const workers = Array.from({ length: 8 }, () => new Worker(code, { eval: true, workerData: { gate } }));
      let ready = 0;
      for (const worker of workers) worker.on("message", (message) => {
        if (message !== "ready") return console.log(message);
        if (++ready < workers.length) return;
        Atomics.store(gate, 0, 1);
        Atomics.notify(gate, 0);
      });
    `);
    expect({ code: child.code, signal: child.signal }, child.stderr).to.deep.equal({ code: 0, signal: null });
    const found = String(discovered().devices.length);
    expect(child.stdout.trim().split("\n")).to.deep.equal(new Array(8).fill(found));
  });

  // Runs `code` in 12 worker threads one after the other, each terminated a
  // few ms after it posts a message, then one request on the main thread:
  // what the child prints, and how it ends.
  const afterTerminatedWorkers = async (code: string, stepMs: number) => {
    const child = await runChild(`
      const { Worker } = require("node:worker_threads");
      const inaccel = require("./src/index.ts");
      (async () => {
        for (let round = 0; round < 12; round++) {
          const worker = new Worker(${JSON.stringify(code)}, { eval: true });
          await new Promise((resolve) => worker.once("message", resolve));
          await new Promise((resolve) => setTimeout(resolve, (round % 4) * ${stepMs}));
          await worker.terminate();
        }
        const a = inaccel.alloc(Float32Array, 16).fill(1), b = inaccel.alloc(Float32Array, 16).fill(2), c = inaccel.alloc(Float32Array, 16);
        await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(16));
        console.log(c.every((v) => v === 3) ? "PASS" : "WRONG " + c[0]);
      })();
    `);
    return { code: child.code, signal: child.signal, out: child.stdout.trim(), stderr: child.stderr };
  };

  it("a worker thread terminated with requests in flight takes nothing down with it", async () => {
    // Its addon instance goes with the thread: the engine joins its device
    // workers and drops the queued jobs. The process and its main thread go on.
    // (Settling requests as the thread's JavaScript stopped once aborted the
    // whole process, in about one round of twenty.)
    const { stderr, ...ended } = await afterTerminatedWorkers(
      'require("tsx/cjs"); const inaccel = require("./src/index.ts"); const n = 1 << 20;' +
      'const a = inaccel.alloc(Float32Array, n), b = inaccel.alloc(Float32Array, n), c = inaccel.alloc(Float32Array, n);' +
      'for (let k = 0; k < 64; k++) inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n)).catch(() => {});' +
      'require("node:worker_threads").parentPort.postMessage("submitted"); setInterval(() => {}, 1000);', 5);
    expect(ended, stderr).to.deep.equal({ code: 0, signal: null, out: "PASS" });
  });

  it("a worker thread terminated while its JavaScript is calling the addon takes nothing down with it", async () => {
    // A call into the addon as the thread stops fails, and its error cannot
    // be thrown to JavaScript any more: node-addon-api then threw a C++
    // exception out of the callback (std::terminate, the whole process),
    // unless NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS is defined.
    const { stderr, ...ended } = await afterTerminatedWorkers(
      'require("tsx/cjs"); const inaccel = require("./src/index.ts"); const n = 1 << 16;' +
      'const a = inaccel.alloc(Float32Array, n), b = inaccel.alloc(Float32Array, n);' +
      '(async () => { for (let k = 0; ; k++) {' +
      '  const c = k % 2 ? inaccel.alloc(Float32Array, n) : new Float32Array(n);' +
      '  inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b.subarray(1)).arg(c).arg(n - 1)).catch(() => {});' +
      '  if (k === 64) require("node:worker_threads").parentPort.postMessage("submitting");' +
      '  if (k % 16 === 0) await new Promise((resolve) => setImmediate(resolve));' +
      '} })();', 3);
    expect(ended, stderr).to.deep.equal({ code: 0, signal: null, out: "PASS" });
  });

  it("runs with pinned host memory (INACCEL_PINNED=1) as with plain memory", async () => {
    const child = await runChild(`const inaccel = require("./src/index");` + vaddScript(1 << 18), { INACCEL_PINNED: "1" });
    expect(child.stdout.trim(), child.stderr).to.match(/^PASS [01]$/);
  });

  it("refuses an INACCEL_PINNED other than 0 or 1 as CONFIG_INVALID at alloc, rather than taking it for unset", async () => {
    const child = await runChild(`const inaccel = require("./src/index");
      try { inaccel.alloc(Float32Array, 4); } catch (e) { console.log(e.message); }`, { INACCEL_PINNED: "yes" });
    expect(child.stdout.trim(), child.stderr).to.equal('CONFIG_INVALID: INACCEL_PINNED is 0 or 1 (or unset), got "yes"');
  });

  it("is importable as an ES module and as CommonJS by its package name", async () => {
    const esm = await runChild(`
      import("inaccel").then((inaccel) => {
        console.log(typeof inaccel.submit, typeof inaccel.alloc, typeof inaccel.request, typeof inaccel.InaccelError);
      });`);
    expect(esm.stdout.trim(), esm.stderr).to.equal("function function function function");
    const cjs = await runChild(`const inaccel = require("inaccel");` + vaddScript(100));
    expect(cjs.stdout.trim(), cjs.stderr).to.match(/^PASS [01]$/);
  });

  it("the addon checks what reaches it: plans, argument counts and kinds, scalar widths", async () => {
    const rt = runtime();
    const kernel = inaccel.repository.candidates("vector.addition", rt.devices).get(rt.devices[0].id)!;
    const candidate = {
      device: 0,
      kernel: kernel.kernel,
      bitstream: {
        id: kernel.bitstream.key, format: kernel.bitstream.format, path: kernel.bitstream.path,
        sha256: kernel.bitstream.sha256,
      },
      memory: [-1, -1, -1, -1],
      chunkArg: 3,
    };
    const access = [0, 0, 1, -1];
    const refused = (call: () => unknown, code: string, message: RegExp) => {
      expect(call).to.throw(message).with.property("code", code);
    };
    refused(() => rt.native.prepare({ accelerator: "vector.addition", access, candidates: [{ ...candidate, device: 99 }] }),
      "NO_DEVICE", /no device 99/);
    refused(() => rt.native.prepare({ accelerator: "vector.addition", access, candidates: [{ ...candidate, memory: [-1] }] }),
      "BITSTREAM_INVALID", /disagree on how many arguments/);
    refused(() => rt.native.prepare({ accelerator: "vector.addition", access, candidates: [{ ...candidate, chunkArg: 2 }] }),
      "BITSTREAM_INVALID", /work size of vector.addition is not a scalar/);
    refused(() => rt.native.prepare({ accelerator: "vector.addition", access, candidates: [] }),
      "NO_DEVICE", /no device can run vector.addition/);
    const plan = rt.native.prepare({ accelerator: "vector.addition", access, candidates: [candidate] });
    const a = inaccel.alloc(Float32Array, 4), b = inaccel.alloc(Float32Array, 4), c = inaccel.alloc(Float32Array, 4);
    const size = new Uint8Array([4, 0, 0, 0]);
    refused(() => rt.native.submit({} as NativePlan, 64, 0, a, b, c, size), "BAD_ARGUMENT", /plan made by prepare/);
    refused(() => rt.native.submit(plan, 64, 0, a, b, c), "BAD_ARGUMENT", /takes 4 arguments/);
    refused(() => rt.native.submit(plan, 64, 0, a, b, 7 as unknown as ArrayBufferView, size), "BAD_ARGUMENT", /argument 2 is not typed/);
    refused(() => rt.native.submit(plan, 64, 0, a, b, c, new Uint8Array(16)), "BAD_ARGUMENT", /argument 3 is wider than any scalar/);
    a.fill(2);
    b.fill(3);
    refused(() => rt.native.submit(plan, 64, 2 ** 24, a, b, c, size), "BAD_ARGUMENT", /slot is out of range/);
    const args = [a, b, c, size];
    const result = await rt.inFlight.run("vector.addition", args, (slot) => {
      // A request refused halfway through its arguments leaves its slot free...
      refused(() => rt.native.submit(plan, 64, slot, a, b, 7 as unknown as ArrayBufferView, size), "BAD_ARGUMENT", /argument 2 is not typed/);
      rt.native.submit(plan, 64, slot, ...args);
      // ...and a slot in flight takes no other request.
      refused(() => rt.native.submit(plan, 64, slot, ...args), "BAD_ARGUMENT", new RegExp(`slot ${slot} is in flight`));
    });
    expect(result.device).to.equal(rt.devices[0]);
    expect([...c]).to.deep.equal([5, 5, 5, 5]);
  });
});
