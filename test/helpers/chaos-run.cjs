// The chaos scenario of the sharing tests: sharers run checked requests on
// the devices INACCEL_DEVICES selects while victims are SIGKILLed mid-run;
// then the state must show nothing held and no process slot, the victims'
// requests must have been counted, and a fresh process must be served by
// each device at once. Prints what it saw, then "kills N" and "CHAOS PASS"
// (exit 0) or "CHAOS FAIL: ..." (exit 1).
//
// test/arbiter.test.ts runs it small on PoCL; on the device tool's GPUs it
// runs with its defaults, from the repository root with tsx reachable and
// dist/ built:
//   INACCEL_DEVICES=gpu node test/helpers/chaos-run.cjs
// Sizes (defaults in brackets): CHAOS_SURVIVORS [4] x CHAOS_REQUESTS [3000]
// requests, CHAOS_INFLIGHT [4] in flight and CHAOS_PACE_MS [1] between a
// lane's requests; CHAOS_VICTIMS [4] at a time, CHAOS_KILLS [30] at least;
// state in CHAOS_STATE_DIR [/tmp/chaos-state], emptied first.
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const size = (name, fallback) => Number(process.env[name] ?? fallback);
const SURVIVORS = size("CHAOS_SURVIVORS", 4);
const REQUESTS = size("CHAOS_REQUESTS", 3000);
const VICTIMS = size("CHAOS_VICTIMS", 4);
const KILLS = size("CHAOS_KILLS", 30);
const FRESH_REQUESTS = 20;
const stateDir = process.env.CHAOS_STATE_DIR ?? "/tmp/chaos-state";
fs.rmSync(stateDir, { recursive: true, force: true });
const env = { ...process.env, INACCEL_STATE_DIR: stateDir, SHARER_ROLE: "vadd" };
const inaccel = require(path.join(ROOT, "dist", "index.js"));
const { native } = require(path.join(ROOT, "dist", "native.js"));

function sharer(extra) {
  const child = spawn(process.execPath, ["--require", "tsx/cjs", "test/helpers/sharer.ts"], {
    cwd: ROOT, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "inherit"],
  });
  const s = { child, lines: [], exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
  child.stdout.on("data", (d) => s.lines.push(...d.toString().split("\n").filter(Boolean)));
  return s;
}

// A victim asks for far more than it will get and is killed at a random
// moment within 300 ms of its first result: kills land mid-request and
// mid-update, restarts at start-up too.
function victim() {
  const s = sharer({ SHARER_COUNT: "1000000" });
  s.dies = Infinity;
  const timer = setInterval(() => {
    if (s.lines.includes("READY")) {
      s.dies = Date.now() + Math.random() * 300;
      clearInterval(timer);
    }
  }, 5);
  s.child.on("exit", () => clearInterval(timer));
  return s;
}

async function main() {
  const devices = inaccel.devices();
  console.log("devices", devices.map((d) => `${d.id}: ${d.name} (${d.platform.name})`).join("; "));
  const survivors = Array.from({ length: SURVIVORS }, () => sharer({
    SHARER_COUNT: String(REQUESTS), SHARER_INFLIGHT: String(size("CHAOS_INFLIGHT", 4)),
    SHARER_PACE_MS: String(size("CHAOS_PACE_MS", 1)),
  }));
  const victims = Array.from({ length: VICTIMS }, victim);
  let kills = 0;
  let done = false;
  Promise.all(survivors.map((s) => s.exited)).then(() => (done = true));
  while (!done || kills < KILLS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < victims.length; i++) {
      if (Date.now() <= victims[i].dies) continue;
      victims[i].child.kill("SIGKILL");
      await victims[i].exited;
      kills++;
      victims[i] = victim();
    }
  }
  for (const v of victims) {
    v.child.kill("SIGKILL");
    await v.exited;
  }
  const failures = [];
  const codes = await Promise.all(survivors.map((s) => s.exited));
  survivors.forEach((s, i) => {
    const report = s.lines.filter((l) => /^(DONE|WRONG|ERROR)/.test(l)).join(" ");
    console.log(`survivor ${i}: exit ${codes[i]} ${report}`);
    if (codes[i] !== 0 || !report.startsWith(`DONE ${REQUESTS} `)) {
      failures.push(`survivor ${i}: ${report || "no report"}, exit ${codes[i]}`);
    }
  });
  console.log("kills", kills);

  const snapshot = native().inspect(stateDir);
  for (const d of snapshot.devices) {
    const ok = d.kernels.reduce((sum, k) => sum + k.ok, 0);
    const failed = d.kernels.reduce((sum, k) => sum + k.failed, 0);
    console.log(`state ${d.key}: lessee ${d.lessee} queueDepth ${d.queueDepth} users [${d.users}] ` +
      `reconfigurations ${d.reconfigurations} ok ${ok} failed ${failed}`);
    if (d.lessee !== 0 || d.queueDepth !== 0 || d.users.length !== 0) failures.push(`${d.key} still held`);
  }
  console.log("processes", JSON.stringify(snapshot.processes));
  if (snapshot.processes.length !== 0) failures.push("process slots left behind");

  for (const device of devices) {
    const start = Date.now();
    const fresh = sharer({ SHARER_COUNT: String(FRESH_REQUESTS), INACCEL_DEVICES: String(device.id) });
    const code = await fresh.exited;
    const ms = Date.now() - start;
    const report = fresh.lines.filter((l) => l.startsWith("DONE")).join("");
    console.log(`fresh process on device ${device.id}: exit ${code} ${report} in ${ms} ms`);
    if (code !== 0 || !report.startsWith(`DONE ${FRESH_REQUESTS} `)) failures.push(`fresh process on device ${device.id} failed`);
  }
  // Every finished request is counted, the victims' too.
  const counted = native().inspect(stateDir).devices
    .flatMap((d) => d.kernels).reduce((sum, k) => sum + k.ok, 0);
  const ownRequests = SURVIVORS * REQUESTS + devices.length * FRESH_REQUESTS;
  console.log(`requests counted ${counted}, of which the victims' ${counted - ownRequests}`);
  if (counted <= ownRequests) failures.push("the victims' requests were not counted");
  console.log(failures.length ? `CHAOS FAIL: ${failures.join("; ")}` : "CHAOS PASS");
  process.exitCode = failures.length ? 1 : 0;
}

main();
