// `inaccel bench [accelerator]`: each device and all together on PoCL's two
// devices, outputs checked against the JavaScript reference. Figures are
// only checked for being counted consistently, never for speed.
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { benchAccelerator } from "../src/cli/bench";
import { Repository } from "../src/repository";
import { cleanup, cli, editMetadata, expectError, PROJECT, sha256, tempDir } from "./repository-helpers";

describe("inaccel bench", function () {
  this.timeout(60000);
  after(cleanup);

  it("measures each device, then both together, and checks an output of each device", async () => {
    const report = await benchAccelerator("vector.addition", { size: 1000, seconds: 0.1, inflight: 3 });
    expect(report).to.include({ accelerator: "vector.addition", shape: "1000", bytesPerRequest: 3 * 4000, inflight: 3, seconds: 0.1 });
    expect(report.rows.map((row) => row.devices)).to.deep.equal([[0], [1], [0, 1]]);
    expect(report.rows.map((row) => row.label.split(":")[0])).to.deep.equal(["0", "1", "all"]);
    for (const row of report.rows) {
      expect([row.checked, row.ok], row.check).to.deep.equal([true, true]);
      expect(row.requests).to.be.at.least(3);
      expect(row.perSecond).to.be.greaterThan(0);
      expect(row.gigabytesPerSecond).to.be.closeTo((row.perSecond * report.bytesPerRequest) / 1e9, 1e-9);
    }
    expect(report.rows.slice(0, 2).map((row) => row.check)).to.deep.equal([
      "device 0: output matches the reference", "device 1: output matches the reference",
    ]);
    // All together: an output of each device the last requests ran on.
    expect(report.rows[2]!.check).to.match(/^device (0|1|0, 1): output matches the reference$/);
    for (const row of report.rows.slice(0, 2)) expect(row.latencyMs!.median).to.be.at.most(row.latencyMs!.p99);
    expect(report.rows[2]!.latencyMs).to.equal(undefined);
  });

  it("measures one device when asked, and refuses an unknown accelerator or device", async () => {
    const report = await benchAccelerator("linalg.gemm", { size: 17, seconds: 0.05, device: 1 });
    expect(report.rows.map((row) => [row.devices, row.ok])).to.deep.equal([[[1], true]]);
    await expectError(() => benchAccelerator("vector.subtraction"), "UNKNOWN_ACCELERATOR", /it runs vector\.addition/);
    await expectError(() => benchAccelerator("vector.addition", { device: 7 }), "NO_DEVICE", /device 7 is not in use here/);
  });

  it("leases an exclusive device for its run, and gives it back", () => {
    const dir = tempDir();
    const config = path.join(dir, "config.json");
    fs.writeFileSync(config, JSON.stringify({ devices: { "0": { mode: "exclusive" } } }));
    const env = { INACCEL_CONFIG: config, INACCEL_STATE_DIR: path.join(dir, "state") };
    const run = cli(["bench", "--size", "64", "--seconds", "0.05", "--json"], env);
    expect(run.status, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { rows: Array<{ label: string; ok: boolean }> };
    expect(report.rows.map((row) => [row.label.split(":")[0], row.ok])).to.deep.equal([["0", true], ["1", true], ["all", true]]);
    const listed = JSON.parse(cli(["devices", "--json"], env).stdout) as { devices: Array<{ mode: string; lessee: number | null }> };
    expect(listed.devices.map((d) => [d.mode, d.lessee])).to.deep.equal([["exclusive", null], ["shared", null]]);
  });

  it("prints a table or JSON, and exits 1 when a device computes wrong results", async () => {
    const table = cli(["bench", "--size", "64", "--seconds", "0.05"]);
    expect(table.status, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^vector\.addition 64 \(768 bytes of arguments\), 8 in flight per device, 0\.05 s per phase; all together: [\d.]+ × the fastest one\n/);
    expect(table.stdout.match(/PASS/g)).to.have.length(3);

    // A repository whose vector bitstream subtracts: a higher version, so it wins.
    const root = tempDir();
    const broken = path.join(tempDir(), "vector");
    fs.cpSync(path.join(PROJECT, "src", "accelerators", "vector"), broken, { recursive: true });
    const source = path.join(broken, "vadd.cl");
    fs.writeFileSync(source, fs.readFileSync(source, "utf8").replace("c[i] = a[i] + b[i];", "c[i] = a[i] - b[i];"));
    editMetadata(broken, (json) => {
      json.version = "9.0.0";
      json.files = [{ path: "vadd.cl", sha256: sha256(source) }];
    });
    await new Repository({ root, system: [] }).install(broken);
    const wrong = cli(["bench", "--size", "64", "--seconds", "0.05", "--device", "0", "--json"], { INACCEL_REPOSITORY: root });
    expect(wrong.status, wrong.stderr).to.equal(1);
    const report = JSON.parse(wrong.stdout) as { rows: Array<{ ok: boolean; check: string }> };
    expect(report.rows).to.have.length(1);
    expect(report.rows[0]!.ok).to.equal(false);
    expect(report.rows[0]!.check).to.match(/^device 0: \d+ of 64 differ, first \[\d+\]/);
    const unchecked = cli(["bench", "--size", "64", "--seconds", "0.05", "--device", "0", "--no-check", "--json"], { INACCEL_REPOSITORY: root });
    expect(unchecked.status, unchecked.stderr).to.equal(0);
    expect((JSON.parse(unchecked.stdout) as { rows: Array<{ checked: boolean }> }).rows[0]!.checked).to.equal(false);

    // Decimal digits only, within bounds: Number() alone would take "0x10" and " 8".
    for (const [args, message] of [
      [["--seconds", "0"], "expected seconds above 0"], [["--seconds", "0x10"], "expected seconds above 0"],
      [["--inflight", " 8"], "expected an integer from 1 to 1024"], [["--inflight", "20000"], "expected an integer from 1 to 1024"],
    ] as const) {
      const bad = cli(["bench", ...args]);
      expect(bad.status, args.join(" ")).to.not.equal(0);
      expect(bad.stderr).to.contain(message);
    }
  });
});
