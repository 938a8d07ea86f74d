// The arbiter test's chaos scenario for a device-tool run, where mocha is not
// carried: 4 sharers x 3000 checked requests while victims are SIGKILLed
// (30 at least), then the state must show nothing held and fresh processes
// must get each device at once. Run from the repo root with tsx reachable:
//   node test/helpers/chaos-run.cjs
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const stateDir = "/tmp/chaos-state";
fs.rmSync(stateDir, { recursive: true, force: true });
const env = { ...process.env, INACCEL_STATE_DIR: stateDir, SHARER_ROLE: "vadd" };
function sharer(extra) {
  const child = spawn(process.execPath, ["--require", "tsx/cjs", "test/helpers/sharer.ts"], { env: { ...env, ...extra }, stdio: ["ignore", "pipe", "inherit"] });
  const s = { child, lines: [], exited: new Promise((r) => child.on("exit", (c) => r(c))) };
  child.stdout.on("data", (d) => s.lines.push(...d.toString().split("\n").filter(Boolean)));
  return s;
}
(async () => {
  const survivors = [0, 1, 2, 3].map(() => sharer({ SHARER_COUNT: "3000", SHARER_INFLIGHT: "4", SHARER_PACE_MS: "1" }));
  const victim = () => { const s = sharer({ SHARER_COUNT: "1000000" }); s.dies = Infinity; const t = setInterval(() => { if (s.lines.includes("READY")) { s.dies = Date.now() + Math.random() * 300; clearInterval(t); } }, 5); s.child.on("exit", () => clearInterval(t)); return s; };
  let victims = [0, 1, 2, 3].map(victim), kills = 0, done = false;
  Promise.all(survivors.map((s) => s.exited)).then(() => (done = true));
  while (!done || kills < 30) {
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < victims.length; i++) if (Date.now() > victims[i].dies) { victims[i].child.kill("SIGKILL"); await victims[i].exited; kills++; victims[i] = victim(); }
  }
  for (const v of victims) { v.child.kill("SIGKILL"); await v.exited; }
  const codes = await Promise.all(survivors.map((s) => s.exited));
  console.log("survivors", codes, survivors.map((s) => s.lines.filter((l) => l.startsWith("DONE") || l.startsWith("WRONG") || l.startsWith("ERROR")).join(" ")));
  console.log("kills", kills);
  const snap = require(process.cwd() + "/dist/native.js").native().inspect(stateDir);
  console.log(JSON.stringify(snap.devices.map((d) => ({ key: d.key, lessee: d.lessee, queueDepth: d.queueDepth, users: d.users, reconfigurations: d.reconfigurations, kernels: d.kernels })), null, 1));
  console.log("processes", JSON.stringify(snap.processes));
  for (const dev of ["0", "1"]) {
    const t = Date.now(); const f = sharer({ SHARER_COUNT: "20", INACCEL_DEVICES: dev }); const c = await f.exited;
    console.log("fresh on device", dev, "exit", c, f.lines.filter((l) => l.startsWith("DONE")).join(""), (Date.now() - t) + " ms");
  }
})();
