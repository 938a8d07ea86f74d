import { expect } from "chai";
import * as inaccel from "../src/index";
import { runChild } from "./helpers/child";

// submit's signal option on the two PoCL devices: what the signal takes off
// the queue never runs, what the device took runs to the end.

const N = 1 << 18;

interface Trial {
  index: number;
  c: Float32Array;
  outcome: Promise<inaccel.SubmitResult>;
}

type Arrays = readonly (readonly [Float32Array, Float32Array, Float32Array])[];

// The arrays of `count` vector additions of N floats, request i adding i
// and 1: made before submitting, so that the requests go in at once.
function arraysFor(count: number): Arrays {
  return Array.from({ length: count }, (_, i) => [new Float32Array(N).fill(i), new Float32Array(N).fill(1), new Float32Array(N)] as const);
}

// The requests of `arrays`, on device 0.
function submitMany(arrays: Arrays, signal?: AbortSignal): Trial[] {
  return arrays.map(([a, b, c], index) => ({
    index,
    c,
    outcome: inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(N), { device: 0, signal }),
  }));
}

// Settles every trial: how many ran (each correct) and how many were
// aborted (each array untouched; with `reason`, each error's cause);
// anything else fails the test.
async function tally(trials: Trial[], reason?: unknown): Promise<{ ran: number; aborted: number }> {
  const settled = await Promise.allSettled(trials.map((t) => t.outcome));
  let ran = 0, aborted = 0;
  settled.forEach((s, k) => {
    const { index, c } = trials[k]!;
    if (s.status === "fulfilled") {
      ran++;
      expect(c.every((v) => v === index + 1), `request ${index} ran`).to.equal(true);
    } else {
      expect((s.reason as inaccel.InaccelError).code, String(s.reason)).to.equal("ABORTED");
      if (reason !== undefined) expect((s.reason as inaccel.InaccelError).cause).to.equal(reason);
      aborted++;
      expect(c.every((v) => v === 0), `request ${index} was aborted: it never ran`).to.equal(true);
    }
  });
  return { ran, aborted };
}

const finishedOnDevices = (): number => inaccel.stats().devices.reduce((sum, d) => sum + d.ok + d.failed, 0);

describe("aborting requests (submit's signal)", () => {
  it("takes queued requests off the queue: they reject with ABORTED and never run; the rest run correctly", async () => {
    const before = finishedOnDevices();
    const controller = new AbortController();
    const reason = new Error("the caller gave up");
    const trials = submitMany(arraysFor(200), controller.signal);
    controller.abort(reason);
    const { ran, aborted } = await tally(trials, reason);
    expect(ran + aborted).to.equal(200);
    expect(aborted, "aborted of 200 queued").to.be.greaterThan(0);
    // Counted as neither ok nor failed: they never reached a device.
    expect(finishedOnDevices() - before).to.equal(ran);
    expect(inaccel.stats().devices.map((d) => d.queueDepth)).to.deep.equal([0, 0]);
  });

  it("aborts only the requests of its own signal", async () => {
    const aborting = new AbortController(), other = new AbortController();
    const [mineArrays, theirArrays] = [arraysFor(100), arraysFor(50)];
    const mine = submitMany(mineArrays, aborting.signal), theirs = submitMany(theirArrays, other.signal);
    aborting.abort();
    expect((await tally(mine)).aborted).to.be.greaterThan(0);
    expect(await tally(theirs)).to.deep.equal({ ran: 50, aborted: 0 });
  });

  it("an abort after its request settled reaches none of the requests that reuse its place", async () => {
    const controller = new AbortController();
    await tally(submitMany(arraysFor(40), controller.signal));
    const later = submitMany(arraysFor(100));
    controller.abort();
    expect(await tally(later)).to.deep.equal({ ran: 100, aborted: 0 });
  });

  // Every device's worker is asked to cancel; one that holds none of the
  // signal's requests once kept its queue as moved-from jobs (whose done()
  // is empty: std::terminate when their turn came).
  it("an abort leaves the other device's queue as it was: its requests all run", async () => {
    const child = await runChild(`
      const inaccel = require("./src/index.ts");
      const N = 1 << 20, a = new Float32Array(N).fill(1), b = new Float32Array(N).fill(2);
      const cs = Array.from({ length: 120 }, () => new Float32Array(N));
      const vadd = (c, device, signal) => inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(N), { device, signal })
        .then(() => (c.every((v) => v === 3) ? "ran" : "WRONG"), (e) => e.code);
      (async () => {
        await vadd(cs[0], 0);
        await vadd(cs[1], 1);
        const controller = new AbortController();
        const others = cs.slice(0, 100).map((c) => vadd(c, 1));  // device 1's queue
        const mine = cs.slice(100).map((c) => vadd(c, 0, controller.signal));
        controller.abort();
        const count = (outcomes) => outcomes.reduce((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {});
        console.log(JSON.stringify({ others: count(await Promise.all(others)), mine: count(await Promise.all(mine)) }));
      })();
    `);
    expect(child.code, child.stderr).to.equal(0);
    expect(JSON.parse(child.stdout).others).to.deep.equal({ ran: 100 });
  });

  it("an aborted signal rejects at once with ABORTED, its reason as the cause, and runs nothing", async () => {
    const before = finishedOnDevices();
    const reason = new Error("the caller gave up");
    const error = await submitMany(arraysFor(1), AbortSignal.abort(reason))[0]!.outcome.then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(inaccel.InaccelError);
    expect((error as inaccel.InaccelError).code).to.equal("ABORTED");
    expect((error as inaccel.InaccelError).cause).to.equal(reason);
    expect(finishedOnDevices()).to.equal(before);
  });

  it("a signal option that is not an AbortSignal is BAD_ARGUMENT", async () => {
    const n = 4;
    const request = inaccel.request("vector.addition").arg(new Float32Array(n)).arg(new Float32Array(n)).arg(new Float32Array(n)).arg(n);
    const error = await inaccel.submit(request, { signal: {} as AbortSignal }).then(() => undefined, (e: unknown) => e);
    expect((error as inaccel.InaccelError).code).to.equal("BAD_ARGUMENT");
  });
});
