import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { BUILTIN_REPOSITORY, Repository, type DownloadProgress } from "../src/repository";
import { cleanup, copyFixture, editMetadata, expectError, FIXTURES, sha256, snapshot, tarball, tempDir } from "./repository-helpers";

describe("repository: install, list, remove, verify", () => {
  after(cleanup);

  it("installs a folder into <root>/<id>/<version>, only the files it names, read-only", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    const result = await repo.install(path.join(FIXTURES, "scale"));
    expect(result).to.include({ id: "fixture", version: "1.2.0", format: "source", installed: true, readOnly: false });
    expect(result.accelerators).to.deep.equal(["fixture.scale"]);
    expect(result.path).to.equal(path.join(root, "fixture", "1.2.0"));
    expect(result.key).to.match(/^fixture@1\.2\.0:[0-9a-f]{12}$/);
    expect(snapshot(root)).to.deep.equal([
      "fixture/",
      "fixture/1.2.0/",
      `fixture/1.2.0/bitstream.json ${sha256(path.join(root, "fixture/1.2.0/bitstream.json"))}`,
      `fixture/1.2.0/scale.cl ${sha256(path.join(FIXTURES, "scale/scale.cl"))}`,
    ]);
    expect(fs.statSync(path.join(result.path, "scale.cl")).mode & 0o777).to.equal(0o444);
  });

  it("installs the same content again as a no-op", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    const first = await repo.install(path.join(FIXTURES, "scale"));
    const before = snapshot(root);
    const again = await repo.install(path.join(FIXTURES, "scale"));
    expect(again.installed).to.equal(false);
    expect(again.key).to.equal(first.key);
    expect(snapshot(root)).to.deep.equal(before);
  });

  it("installs an InAccel-style folder, finding its .cl and recording its sha256", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    const result = await repo.install(path.join(FIXTURES, "inaccel-vadd"));
    expect(result.platform).to.deep.equal({ vendor: "opencl", name: "any" });
    expect(result.sha256).to.equal(sha256(path.join(FIXTURES, "inaccel-vadd/vadd.cl")));
    const stored = JSON.parse(fs.readFileSync(path.join(result.path, "bitstream.json"), "utf8"));
    expect(stored.files).to.deep.equal([{ path: "vadd.cl", sha256: result.sha256 }]);
    expect(fs.existsSync(path.join(result.path, "vadd.cpp"))).to.equal(false);
    expect((await repo.install(path.join(FIXTURES, "inaccel-vadd"))).installed).to.equal(false);
  });

  it("installs a binary bitstream named by `name` with its platform", async () => {
    const repo = new Repository({ root: tempDir(), system: [] });
    const result = await repo.install(path.join(FIXTURES, "xilinx-vadd"));
    expect(result).to.include({ format: "binary", version: "2" });
    expect(result.platform).to.deep.equal({ vendor: "xilinx", name: "u250", version: "xdma_201830.2" });
  });

  it("installs a .tar.gz, flat or with one top-level folder", async () => {
    for (const prefix of [undefined, "scale-1.2.0"]) {
      const repo = new Repository({ root: tempDir(), system: [] });
      const file = await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tgz"), prefix);
      const result = await repo.install(file);
      expect(result.installed).to.equal(true);
      expect(sha256(result.program)).to.equal(sha256(path.join(FIXTURES, "scale/scale.cl")));
    }
  });

  it("installs from an http URL, telling onProgress how far the download has come", async () => {
    const file = await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tar.gz"));
    const bytes = fs.readFileSync(file);
    const server = http.createServer((request, response) => {
      if (request.url === "/scale.tar.gz") response.end(bytes);
      else if (request.url === "/unsized.tar.gz") {
        // Two writes without a Content-Length: chunked, of no declared size.
        response.write(bytes.subarray(0, 100));
        setTimeout(() => response.end(bytes.subarray(100)), 20);
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const [name, total] of [["scale", bytes.length], ["unsized", undefined]] as const) {
        const seen: DownloadProgress[] = [];
        const repo = new Repository({ root: tempDir(), system: [] });
        const result = await repo.install(`http://127.0.0.1:${port}/${name}.tar.gz`, { onProgress: (progress) => seen.push(progress) });
        expect(result).to.include({ id: "fixture", installed: true });
        expect(seen.length, name).to.be.at.least(1);
        expect(seen.every((progress, i) => progress.total === total && (i === 0 || progress.received > seen[i - 1]!.received)), JSON.stringify(seen)).to.equal(true);
        expect(seen[seen.length - 1]!.received).to.equal(bytes.length);
      }
    } finally {
      server.close();
    }
  });

  it("lists the writable repository first, then system ones, then the built-in accelerators", async () => {
    const root = tempDir();
    const system = tempDir();
    const owner = new Repository({ root: system, system: [] });
    await owner.install(path.join(FIXTURES, "inaccel-vadd"));
    expect(owner.list()[0].readOnly).to.equal(false); // the same folder, seen as writable here
    const repo = new Repository({ root, system: [system] });
    await repo.install(path.join(FIXTURES, "scale"));
    const list = repo.list();
    expect(list.slice(0, 2).map((item) => [item.id, item.repository, item.readOnly])).to.deep.equal([
      ["fixture", root, false], ["com.inaccel.vector", system, true],
    ]);
    const builtin = list.slice(2);
    expect(builtin.every((item) => item.repository === BUILTIN_REPOSITORY && item.readOnly)).to.equal(true);
    expect(builtin.find((item) => item.id === "vector")?.accelerators).to.deep.equal(["vector.addition", "vector.multiplication"]);
  });

  it("reads INACCEL_REPOSITORY and INACCEL_SYSTEM_REPOSITORIES by default", () => {
    const saved = { ...process.env };
    try {
      process.env.INACCEL_REPOSITORY = "/tmp/a-repo";
      process.env.INACCEL_SYSTEM_REPOSITORIES = "/tmp/s1::/tmp/s2";
      const repo = new Repository();
      expect(repo.root).to.equal("/tmp/a-repo");
      expect(repo.system).to.deep.equal(["/tmp/s1", "/tmp/s2"]);
    } finally {
      process.env.INACCEL_REPOSITORY = saved.INACCEL_REPOSITORY;
      process.env.INACCEL_SYSTEM_REPOSITORIES = saved.INACCEL_SYSTEM_REPOSITORIES;
      if (saved.INACCEL_REPOSITORY === undefined) delete process.env.INACCEL_REPOSITORY;
      if (saved.INACCEL_SYSTEM_REPOSITORIES === undefined) delete process.env.INACCEL_SYSTEM_REPOSITORIES;
    }
  });

  it("removes one version, then all versions, and refuses what is absent or read-only", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    await repo.install(path.join(FIXTURES, "scale"));
    const v2 = copyFixture("scale");
    editMetadata(v2, (json) => (json.version = "1.3.0"));
    await repo.install(v2);
    expect(repo.list().filter((item) => item.id === "fixture").map((item) => item.version)).to.have.members(["1.2.0", "1.3.0"]);

    expect(repo.remove("fixture@1.2.0").map((item) => item.version)).to.deep.equal(["1.2.0"]);
    expect(fs.readdirSync(path.join(root, "fixture"))).to.deep.equal(["1.3.0"]);
    await expectError(() => repo.remove("fixture@1.2.0"), "NOT_FOUND", /fixture@1\.2\.0/);
    repo.remove("fixture");
    expect(fs.readdirSync(root)).to.deep.equal([]);
    await expectError(() => repo.remove("fixture"), "NOT_FOUND");
    await expectError(() => repo.remove("vector"), "PERMISSION_DENIED", /read-only/);
  });

  it("installing into or removing from a repository this user may not write is PERMISSION_DENIED, the repository as it was", async function () {
    const root = tempDir();
    await new Repository({ root, system: [] }).install(path.join(FIXTURES, "scale"));
    fs.chmodSync(root, 0o755);
    const script = `const { Repository } = require("./src/repository");
      const repo = new Repository({ root: ${JSON.stringify(root)}, system: [] });
      const code = (e) => e.constructor.name + " " + e.code + " " + e.message;
      repo.install(${JSON.stringify(path.join(FIXTURES, "inaccel-vadd"))}).then(() => "installed", code).then((installed) => {
        let removed;
        try { removed = repo.remove("fixture").length + " removed"; } catch (e) { removed = code(e); }
        console.log(JSON.stringify([installed, removed]));
      });`;
    // Root may write anywhere: it tries as nobody (a folder of mode 0755 is not theirs to write).
    const asRoot = process.getuid?.() === 0;
    if (asRoot && spawnSync("setpriv", ["--version"]).status !== 0) this.skip();
    if (!asRoot) fs.chmodSync(root, 0o555);
    const command = [...(asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []), process.execPath, "--require", "tsx/cjs", "-e", script];
    const before = snapshot(root);
    const run = spawnSync(command[0]!, command.slice(1), { cwd: path.resolve(__dirname, ".."), env: { ...process.env, HOME: os.tmpdir() }, encoding: "utf8" });
    fs.chmodSync(root, 0o755);
    expect(run.status, run.stderr).to.equal(0);
    const [installed, removed] = JSON.parse(run.stdout) as string[];
    expect(installed).to.match(/^InaccelError PERMISSION_DENIED PERMISSION_DENIED: .*EACCES: permission denied, mkdtemp '.*\/\.install-XXXXXX'$/);
    expect(removed).to.match(/^InaccelError PERMISSION_DENIED PERMISSION_DENIED: .*EACCES: permission denied, mkdtemp '.*\/\.remove-XXXXXX'$/);
    expect(snapshot(root)).to.deep.equal(before);
  });

  it("verify passes on a good repository and reports a tampered file", async () => {
    const repo = new Repository({ root: tempDir(), system: [] });
    const result = await repo.install(path.join(FIXTURES, "scale"));
    expect(repo.verify().every((item) => item.ok)).to.equal(true);
    fs.chmodSync(result.program, 0o644);
    fs.appendFileSync(result.program, "// tampered\n");
    const bad = repo.verify().filter((item) => !item.ok);
    expect(bad).to.have.length(1);
    expect(bad[0]).to.include({ bitstream: "fixture@1.2.0", path: result.path });
    expect(bad[0].problems[0]).to.match(/CHECKSUM_MISMATCH: .*scale\.cl: sha256 is/);
  });

  it("verify reports a bitstream folder whose metadata is unreadable", async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, "broken", "1"), { recursive: true });
    fs.writeFileSync(path.join(root, "broken", "1", "bitstream.json"), "{ nope");
    const repo = new Repository({ root, system: [] });
    expect(ids(repo)).to.deep.equal([]);
    const bad = repo.verify().filter((item) => !item.ok);
    expect(bad.map((item) => item.bitstream)).to.deep.equal([path.join("broken", "1")]);
    expect(bad[0].problems[0]).to.match(/BITSTREAM_INVALID: .*malformed JSON/);
  });

  it("lists, verifies and removes around a folder it cannot look into (no permission, a link loop)", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    await repo.install(path.join(FIXTURES, "scale"));
    // stat(2) of loop/bitstream.json fails with ELOOP, even for root; of
    // locked/bitstream.json with EACCES for any other user.
    fs.mkdirSync(path.join(root, "loop"));
    fs.symlinkSync("bitstream.json", path.join(root, "loop", "bitstream.json"));
    fs.mkdirSync(path.join(root, "locked", "1"), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(root, "locked"), 0o000);
    try {
      expect(ids(repo)).to.deep.equal(["fixture"]);
      expect(repo.verify().filter((item) => !item.ok)).to.deep.equal([]);
      expect(repo.remove("fixture").map((b) => `${b.id}@${b.version}`)).to.deep.equal(["fixture@1.2.0"]);
    } finally {
      fs.chmodSync(path.join(root, "locked"), 0o700);
    }
  });

  it("sees installs and removals made by other Repository objects (other processes)", async () => {
    const root = tempDir();
    const reader = new Repository({ root, system: [] });
    expect(ids(reader)).to.deep.equal([]);
    await new Repository({ root, system: [] }).install(path.join(FIXTURES, "scale"));
    expect(ids(reader)).to.deep.equal(["fixture"]);
    new Repository({ root, system: [] }).remove("fixture");
    expect(ids(reader)).to.deep.equal([]);
  });
});

/** Ids of the bitstreams in a repository's writable root. */
function ids(repo: Repository): string[] {
  return repo.list().filter((item) => item.repository === repo.root).map((item) => item.id);
}
