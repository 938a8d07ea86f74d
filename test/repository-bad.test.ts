import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import * as tar from "tar";
import type { ErrorCode } from "../src/errors";
import * as inaccel from "../src/index";
import { Repository } from "../src/repository";
import { cleanup, copyFixture, editMetadata, expectError, FIXTURES, snapshot, tarball, tempDir } from "./repository-helpers";

/**
 * Installs `source` into a repository that already holds the scale fixture,
 * expects `code` (message matching `pattern`), and checks the repository
 * is left exactly as it was.
 */
async function refused(source: string, code: ErrorCode, pattern: RegExp, options: ConstructorParameters<typeof Repository>[0] = {}): Promise<void> {
  const root = tempDir();
  await new Repository({ root, system: [] }).install(path.join(FIXTURES, "scale"));
  const repo = new Repository({ system: [], ...options, root });
  const before = snapshot(root);
  await expectError(() => repo.install(source), code, pattern);
  expect(snapshot(root)).to.deep.equal(before);
}

/** A tarball written entry by entry, to build archives `tar.c` would never make. */
async function rawTarball(file: string, entries: Array<{ path: string; type?: "File" | "SymbolicLink" | "Link"; linkpath?: string; body?: string }>): Promise<string> {
  const header = (entry: (typeof entries)[number]): Buffer => {
    const body = Buffer.from(entry.body ?? "");
    const block = Buffer.alloc(512);
    const h = new tar.Header({
      path: entry.path, mode: 0o644, size: entry.type && entry.type !== "File" ? 0 : body.length,
      type: entry.type ?? "File", linkpath: entry.linkpath, mtime: new Date(0), uid: 0, gid: 0,
    });
    h.encode(block);
    const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
    body.copy(padded);
    return Buffer.concat([block, entry.type && entry.type !== "File" ? Buffer.alloc(0) : padded]);
  };
  fs.writeFileSync(file, Buffer.concat([...entries.map(header), Buffer.alloc(1024)]));
  return file;
}

const metadataOf = (dir: string): string => fs.readFileSync(path.join(dir, "bitstream.json"), "utf8");

describe("repository: bad input is refused and leaves the repository as it was", () => {
  after(cleanup);

  it("malformed JSON", async () => {
    const dir = copyFixture("scale");
    fs.writeFileSync(path.join(dir, "bitstream.json"), '{ "bitstreamId": "fixture", ');
    await refused(dir, "BITSTREAM_INVALID", /bitstream\.json: malformed JSON/);
  });

  it("a schema violation, naming the field", async () => {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.kernels[0].arguments[1].access = "write"));
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.arguments\[1\]\.access: must be one of "r", "w", "rw"/);
    editMetadata(dir, (json) => {
      json.kernels[0].arguments[1].access = "w";
      delete json.version;
    });
    await refused(dir, "BITSTREAM_INVALID", /version: required field is missing/);
  });

  it("an unknown field, naming it", async () => {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.kernels[0].arguments[0].bank = 3));
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.arguments\[0\]\.bank: unknown field/);
  });

  it("an unsupported argument type, a bad length expression, a bad workSize", async () => {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.kernels[0].arguments[0].type = "float4*"));
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.arguments\[0\]\.type: "float4\*" is not a supported type/);
    editMetadata(dir, (json) => {
      json.kernels[0].arguments[0].type = "float*";
      json.kernels[0].arguments[0].length = "n * count";
    });
    await refused(dir, "BITSTREAM_INVALID", /arguments\[0\]\.length: "count" is not an integer scalar argument/);
    editMetadata(dir, (json) => {
      json.kernels[0].arguments[0].length = "n *";
    });
    await refused(dir, "BITSTREAM_INVALID", /arguments\[0\]\.length: "n \*" ends too early/);
    editMetadata(dir, (json) => {
      json.kernels[0].arguments[0].length = "n";
      json.kernels[0].workSize = "alpha";
    });
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.workSize: "alpha" is not an integer scalar argument/);
    editMetadata(dir, (json) => (json.kernels[0].workSize = "n * count"));
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.workSize: "count" is not an integer scalar argument/);
    editMetadata(dir, (json) => (json.kernels[0].workSize = "(n + 1"));
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.workSize: "\(n \+ 1" ends too early/);
  });

  it("an elementwise kernel without a workSize, or with a buffer of another length", async () => {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => {
      json.kernels[0].elementwise = true;
      delete json.kernels[0].workSize;
    });
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.elementwise: needs a workSize/);
    editMetadata(dir, (json) => {
      json.kernels[0].workSize = "n";
      json.kernels[0].arguments[1].length = "n / 2";
    });
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.arguments\[1\]\.length: an elementwise kernel's buffers hold workSize \("n"\) elements/);
    editMetadata(dir, (json) => (json.kernels[0].workSize = "n * 1"));
    await refused(dir, "BITSTREAM_INVALID", /kernels\[0\]\.workSize: an elementwise kernel's work size is one integer scalar argument, not "n \* 1"/);
  });

  it("a checksum mismatch", async () => {
    const dir = copyFixture("scale");
    fs.appendFileSync(path.join(dir, "scale.cl"), "\n");
    await refused(dir, "CHECKSUM_MISMATCH", /scale\.cl: sha256 is [0-9a-f]{64}, bitstream\.json says/);
  });

  it("a missing file, a path out of the folder, a link out of the folder", async () => {
    const dir = copyFixture("scale");
    fs.rmSync(path.join(dir, "scale.cl"));
    await refused(dir, "BITSTREAM_INVALID", /files\[0\]\.path: scale\.cl is missing/);
    editMetadata(dir, (json) => (json.files[0].path = "../scale/scale.cl"));
    await refused(dir, "BITSTREAM_INVALID", /files\[0\]\.path: "\.\.\/scale\/scale\.cl" must be a relative path inside the folder/);
    editMetadata(dir, (json) => (json.files[0].path = "scale.cl"));
    fs.symlinkSync(path.join(FIXTURES, "scale", "scale.cl"), path.join(dir, "scale.cl"));
    await refused(dir, "BITSTREAM_INVALID", /scale\.cl links outside the folder/);
  });

  it("an InAccel-style folder with no program file, or several", async () => {
    const dir = copyFixture("inaccel-vadd");
    fs.renameSync(path.join(dir, "vadd.cl"), path.join(dir, "vadd.c"));
    await refused(dir, "BITSTREAM_INVALID", /no program file \(\.cl, \.xclbin, \.aocx\) found/);
    fs.renameSync(path.join(dir, "vadd.c"), path.join(dir, "vadd.cl"));
    fs.writeFileSync(path.join(dir, "other.cl"), "");
    await refused(dir, "BITSTREAM_INVALID", /several program files \(other\.cl, vadd\.cl\)/);
  });

  it("a binary bitstream without a platform", async () => {
    const dir = copyFixture("xilinx-vadd");
    editMetadata(dir, (json) => delete json.platform);
    await refused(dir, "BITSTREAM_INVALID", /platform: the binary vadd\.xclbin must declare the platform/);
  });

  it("a bitstream.json over 1 MiB", async () => {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.description = "x".repeat(1 << 20)));
    await refused(dir, "BITSTREAM_INVALID", /more than the 1048576-byte limit/);
  });

  it("the same id@version with different content", async () => {
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.description = "another build"));
    await refused(dir, "BITSTREAM_INVALID", /fixture@1\.2\.0 is installed already with different content/);
  });

  it("a source that does not exist", async () => {
    await refused(path.join(tempDir(), "nothing-here"), "NOT_FOUND", /no such file or folder/);
  });

  it("a tarball with ../ paths, absolute paths, or links pointing outside", async () => {
    const body = metadataOf(path.join(FIXTURES, "scale"));
    const dir = tempDir();
    const cases: Array<[string, Parameters<typeof rawTarball>[1], RegExp]> = [
      ["dotdot.tar", [{ path: "bitstream.json", body }, { path: "../evil.cl", body: "x" }], /entry \.\.\/evil\.cl points outside/],
      ["absolute.tar", [{ path: "/tmp/evil.cl", body: "x" }, { path: "bitstream.json", body }], /entry \/tmp\/evil\.cl points outside/],
      ["symlink.tar", [{ path: "bitstream.json", body }, { path: "scale.cl", type: "SymbolicLink", linkpath: "/etc/passwd" }], /link scale\.cl -> \/etc\/passwd points outside/],
      ["symlink-up.tar", [{ path: "bitstream.json", body }, { path: "scale.cl", type: "SymbolicLink", linkpath: "../../scale.cl" }], /points outside/],
      ["hardlink.tar", [{ path: "bitstream.json", body }, { path: "scale.cl", type: "Link", linkpath: "../x" }], /points outside/],
    ];
    for (const [name, entries, pattern] of cases) {
      await refused(await rawTarball(path.join(dir, name), entries), "BITSTREAM_INVALID", pattern);
    }
  });

  it("a file that is not a tar archive, or an archive without bitstream.json", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "junk.tar.gz"), "this is not a tarball at all");
    await refused(path.join(dir, "junk.tar.gz"), "BITSTREAM_INVALID", /junk\.tar\.gz: not a readable tar archive/);
    const empty = await rawTarball(path.join(dir, "empty.tar"), [{ path: "README", body: "hi" }]);
    await refused(empty, "BITSTREAM_INVALID", /no bitstream\.json at its top/);
  });

  it("a tarball with more entries or bytes than the limits", async () => {
    const file = await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tgz"));
    await refused(file, "BITSTREAM_INVALID", /has more than 2 entries/, { limits: { archiveEntries: 2 } });
    await refused(file, "BITSTREAM_INVALID", /unpacks to more than 100 bytes/, { limits: { totalBytes: 100 } });
  });

  it("an unreachable URL, naming the HTTP status", async () => {
    const server = http.createServer((_request, response) => response.writeHead(404, "Not Found").end("no"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await refused(`http://127.0.0.1:${port}/missing.tar.gz`, "DOWNLOAD_FAILED", /missing\.tar\.gz: HTTP 404 Not Found/);
    } finally {
      server.close();
    }
    // The port is closed now: nothing answers.
    await refused(`http://127.0.0.1:${port}/gone.tar.gz`, "DOWNLOAD_FAILED", /gone\.tar\.gz: unreachable/);
  });

  it("a URL that never answers or stops sending, after limits.stallMs; an install whose signal aborts", async () => {
    const tgz = fs.readFileSync(await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tgz")));
    const held: http.ServerResponse[] = [];
    // silent.tgz: no answer at all; half.tgz: half the tarball, then nothing.
    const server = http.createServer((request, response) => {
      held.push(response);
      if (request.url !== "/half.tgz") return;
      response.writeHead(200, { "content-length": tgz.length });
      response.write(tgz.subarray(0, tgz.length >> 1));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const name of ["silent", "half"]) {
        await refused(`${base}/${name}.tgz`, "DOWNLOAD_FAILED", new RegExp(`/${name}\\.tgz: nothing received for 300 ms$`), { limits: { stallMs: 300 } });
      }
      const root = tempDir();
      const repo = new Repository({ root, system: [] });
      const reason = new Error("no longer wanted");
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 200);
      for (const signal of [controller.signal, AbortSignal.abort(reason)]) {
        const error = await expectError(() => repo.install(`${base}/half.tgz`, { signal }), "ABORTED", /half\.tgz was aborted/);
        expect(error.cause).to.equal(reason);
        expect(fs.readdirSync(root), "nothing left of the install").to.deep.equal([]);
      }
    } finally {
      for (const response of held) response.destroy();
      server.close();
    }
  });

  it("an abort that comes while the install hashes and copies stops it before it commits", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    const controller = new AbortController();
    // Runs at the install's first chance: a local folder's install has none
    // before its synchronous hashing and copying are done.
    setImmediate(() => controller.abort(new Error("Ctrl-C")));
    await expectError(() => repo.install(path.join(FIXTURES, "scale"), { signal: controller.signal }), "ABORTED", /scale was aborted$/);
    expect(fs.readdirSync(root)).to.deep.equal([]);
    expect((await repo.install(path.join(FIXTURES, "scale"))).installed).to.equal(true);
  });

  it("refuses limits that are not positive integers, or that it does not know", async () => {
    for (const limits of [{ stallMs: Infinity }, { stallMs: 2 ** 31 }, { totalBytes: 0 }, { archiveEntries: 1.5 }, { metadataBytes: -1 }]) {
      await expectError(() => new Repository({ limits }), "BAD_ARGUMENT", /^BAD_ARGUMENT: limits\.\w+ is an integer from 1 to \d+, got /);
    }
    await expectError(() => new Repository({ limits: { stall: 5 } as never }), "BAD_ARGUMENT", /no repository limit "stall"/);
    expect(() => new Repository({ limits: { stallMs: undefined, totalBytes: 10 } })).to.not.throw();
  });

  it("refuses a source, options or remove spec of the wrong kind as BAD_ARGUMENT, not a TypeError", async () => {
    const root = tempDir();
    const repo = new Repository({ root, system: [] });
    for (const source of [5, undefined, null, ""] as unknown as string[]) {
      await expectError(() => repo.install(source), "BAD_ARGUMENT", /^BAD_ARGUMENT: install takes a folder, a \.tar, \.tar\.gz or \.tgz file, or an http\(s\) URL, got /);
    }
    await expectError(() => repo.install(path.join(FIXTURES, "scale"), null as never), "BAD_ARGUMENT", /install's options are an object/);
    await expectError(() => repo.install(path.join(FIXTURES, "scale"), { onProgress: "bar" as never }), "BAD_ARGUMENT", /install's onProgress option is a function, got string/);
    for (const spec of [5, null, undefined] as unknown as string[]) {
      await expectError(() => repo.remove(spec), "BAD_ARGUMENT", /^BAD_ARGUMENT: remove takes "bitstreamId" or "bitstreamId@version", got /);
    }
    expect(fs.existsSync(root) ? fs.readdirSync(root) : []).to.deep.equal([]);
  });

  it("refuses to install into a repository root that is a file, and leaves the file as it was", async () => {
    const file = path.join(tempDir(), "not-a-folder");
    fs.writeFileSync(file, "mine");
    await expectError(() => new Repository({ root: file, system: [] }).install(path.join(FIXTURES, "scale")), "CONFIG_INVALID",
      new RegExp(`^CONFIG_INVALID: the repository ${file} is not a folder \\(INACCEL_REPOSITORY, or the root option\\)$`));
    expect(fs.readFileSync(file, "utf8")).to.equal("mine");
  });

  it("refuses constructor options and resolve arguments of the wrong kind as BAD_ARGUMENT, not a TypeError", async () => {
    await expectError(() => new Repository(null as never), "BAD_ARGUMENT", /^BAD_ARGUMENT: Repository's options are an object \(\{ root, system, limits \}\), got null$/);
    for (const root of [5, ""] as unknown as string[]) {
      await expectError(() => new Repository({ root }), "BAD_ARGUMENT", /^BAD_ARGUMENT: Repository's root option is a folder's path, got /);
    }
    for (const system of ["/tmp", [5]] as unknown as string[][]) {
      await expectError(() => new Repository({ system }), "BAD_ARGUMENT", /^BAD_ARGUMENT: Repository's system option is an array of folders' paths, got /);
    }
    const repo = new Repository({ root: tempDir(), system: [] });
    const [device] = inaccel.devices();
    await expectError(() => repo.resolve("vector.addition", null as never), "BAD_ARGUMENT", /^BAD_ARGUMENT: resolve takes a device \(one of devices\(\)\), got null$/);
    await expectError(() => repo.resolve(5 as never, device!), "BAD_ARGUMENT", /^BAD_ARGUMENT: resolve takes an accelerator id \(a string\), got number 5$/);
    expect(repo.resolve("vector.addition", device!)?.kernel).to.be.a("string");
  });

  it("names a bad file of an archive inside the archive", async () => {
    const dir = copyFixture("scale");
    fs.rmSync(path.join(dir, "scale.cl"));
    const file = await tarball(dir, path.join(tempDir(), "broken.tgz"), "scale");
    await refused(file, "BITSTREAM_INVALID", new RegExp(`: ${file.replaceAll(".", "\\.")}: scale/bitstream\\.json: files\\[0\\]\\.path: scale\\.cl is missing$`));
  });
});
