import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { cleanup, cli, copyFixture, editMetadata, FIXTURES, PROJECT, tarball, tempDir, TSX } from "./repository-helpers";

describe("repository: inaccel bitstream CLI", function () {
  this.timeout(120000);
  after(cleanup);

  it("prints the package's version with --version and -V", () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const printed = cli([flag]);
      expect(printed.status, printed.stderr).to.equal(0);
      expect(printed.stdout).to.equal(`${version}\n`);
    }
  });

  it("has --help for the group and each subcommand", () => {
    const group = cli(["bitstream", "--help"]);
    expect(group.status).to.equal(0);
    for (const name of ["install", "list", "remove", "verify"]) expect(group.stdout).to.contain(name);
    const expected: Record<string, RegExp> = {
      install: /Usage: inaccel bitstream install \[options\] <source>[\s\S]*http\(s\) URL/,
      list: /Usage: inaccel bitstream list[\s\S]*--json/,
      remove: /Usage: inaccel bitstream remove \[options\] <bitstream>[\s\S]*bitstreamId@version/,
      verify: /Usage: inaccel bitstream verify[\s\S]*sha256/,
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const help = cli(["bitstream", name, "--help"]);
      expect(help.status, help.stderr).to.equal(0);
      expect(help.stdout).to.match(pattern);
    }
  });

  it("installs, lists (table and JSON), verifies and removes", () => {
    const env = { INACCEL_REPOSITORY: tempDir(), INACCEL_SYSTEM_REPOSITORIES: "" };
    const install = cli(["bitstream", "install", path.join(FIXTURES, "scale")], env);
    expect(install.status, install.stderr).to.equal(0);
    expect(install.stdout).to.match(/^installed fixture@1\.2\.0 \(fixture\.scale\) in /);
    expect(cli(["bitstream", "install", path.join(FIXTURES, "scale")], env).stdout).to.match(/fixture@1\.2\.0 is installed already with the same content/);

    const table = cli(["bitstream", "list"], env);
    expect(table.status).to.equal(0);
    expect(table.stdout).to.match(/fixture@1\.2\.0.*opencl\/any.*source.*fixture\.scale/);
    expect(table.stdout).to.match(/vector@1\.0\.0.*\(read-only\)/);
    const json = JSON.parse(cli(["bitstream", "list", "--json"], env).stdout) as Array<{ id: string; readOnly: boolean }>;
    expect(json.map((item) => [item.id, item.readOnly])).to.deep.include.members([["fixture", false], ["vector", true]]);
    expect(json[0].id).to.equal("fixture");

    const verify = cli(["bitstream", "verify"], env);
    expect(verify.status).to.equal(0);
    expect(verify.stdout).to.match(/^ok {3}fixture@1\.2\.0 /m);

    const removed = cli(["bitstream", "remove", "fixture@1.2.0"], env);
    expect(removed.status, removed.stderr).to.equal(0);
    expect(removed.stdout).to.equal("removed fixture@1.2.0\n");
    expect(fs.readdirSync(env.INACCEL_REPOSITORY)).to.deep.equal([]);
  });

  it("takes --repository instead of the environment", () => {
    const root = tempDir();
    const install = cli(["bitstream", "--repository", root, "install", path.join(FIXTURES, "inaccel-vadd")], { INACCEL_REPOSITORY: tempDir() });
    expect(install.status, install.stderr).to.equal(0);
    expect(fs.readdirSync(root)).to.deep.equal(["com.inaccel.vector"]);
  });

  it("verify exits 1 and names a tampered file", () => {
    const env = installedScale((folder) => overwrite(path.join(folder, "scale.cl"), "tampered"));
    const verify = cli(["bitstream", "verify"], env);
    expect(verify.status).to.equal(1);
    expect(verify.stdout).to.match(/^FAIL fixture@1\.2\.0 .*\n +CHECKSUM_MISMATCH: .*scale\.cl/m);
  });

  it("list names on stderr the folders it left out, and exits 0", () => {
    const env = installedScale((folder) => overwrite(path.join(folder, "bitstream.json"), "{"));
    for (const args of [["bitstream", "list"], ["bitstream", "list", "--json"]]) {
      const list = cli(args, env);
      expect(list.status, list.stderr).to.equal(0);
      expect(list.stdout).not.to.contain("fixture");
      expect(list.stderr).to.match(/^inaccel: left out 1 folder whose metadata could not be read \(`inaccel bitstream verify` checks them\):\n {2}BITSTREAM_INVALID: .*fixture\/1\.2\.0\/bitstream\.json: malformed JSON/);
    }
  });

  it("stops quietly, with SIGPIPE's status, when its reader is gone (| head)", () => {
    // `true` exits long before the CLI has started, so every write fails with EPIPE.
    const main = path.join(PROJECT, "src", "cli", "main.ts");
    const piped = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" ${TSX.join(" ")} "${main}" bitstream verify | true`], {
      cwd: PROJECT, encoding: "utf8",
    });
    expect(piped.stderr).to.equal("");
    expect(piped.status).to.equal(141);
  });

  it("install from a URL draws a progress bar on a terminal, and none into a pipe", async () => {
    const bytes = fs.readFileSync(await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tgz")));
    const server = http.createServer((_request, response) => response.end(bytes));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scale.tgz`;
      const main = path.join(PROJECT, "src", "cli", "main.ts");
      const install = `"${process.execPath}" ${TSX.join(" ")} "${main}" bitstream install ${url}`;
      // script(1) runs it on a pseudo-terminal; the server answers from this process, so not spawnSync.
      const onTerminal = await output("script", ["-qec", install, "/dev/null"], { INACCEL_REPOSITORY: tempDir() });
      expect(onTerminal).to.match(/downloading \[[^\]]*\] 100% 0\.0\/0\.0 MiB/);
      expect(onTerminal).to.contain("installed fixture@1.2.0");
      const piped = await output("sh", ["-c", install], { INACCEL_REPOSITORY: tempDir() });
      expect(piped).to.match(/^installed fixture@1\.2\.0 /);
      expect(piped).not.to.contain("downloading");
    } finally {
      server.close();
    }
  });

  // An install of a download that stalls halfway, SIGINTed once it is in
  // the download: `wrap` comes before the CLI's command line, and `target`
  // picks the process to signal. How it ended, its stderr and what it left.
  const interruptedInstall = async (wrap: string[], target: (child: ChildProcess) => number) => {
    const bytes = fs.readFileSync(await tarball(path.join(FIXTURES, "scale"), path.join(tempDir(), "scale.tgz")));
    const held: http.ServerResponse[] = [];
    // Half the tarball, then nothing: the download stays in its staging folder.
    const server = http.createServer((_request, response) => {
      held.push(response);
      response.writeHead(200, { "content-length": bytes.length });
      response.write(bytes.subarray(0, bytes.length >> 1));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const repository = tempDir();
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scale.tgz`;
      const command = [...wrap, process.execPath, ...TSX, path.join(PROJECT, "src", "cli", "main.ts"), "bitstream", "install", url];
      const child = spawn(command[0]!, command.slice(1), {
        cwd: PROJECT, env: { ...process.env, INACCEL_REPOSITORY: repository }, stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("close", (code, signal) => resolve(signal ?? code)));
      for (const deadline = Date.now() + 30000; !fs.readdirSync(repository).some((name) => name.startsWith(".install-"));) {
        expect(Date.now(), "the install never began").to.be.below(deadline);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));  // into the download
      process.kill(target(child), "SIGINT");
      return { ended: await exited, stderr, left: fs.readdirSync(repository) };
    } finally {
      for (const response of held) response.destroy();
      server.close();
    }
  };

  it("install stopped by Ctrl-C (SIGINT) leaves no staging folder, then ends by that SIGINT", async () => {
    const { ended, stderr, left } = await interruptedInstall([], (child) => child.pid!);
    expect(ended, stderr).to.equal("SIGINT");
    expect(stderr).to.match(/^inaccel: ABORTED: the install of .*scale\.tgz was aborted\n$/);
    expect(left).to.deep.equal([]);
  });

  // PID 1 (a container's first process, without an init) ignores a signal it
  // does not handle: the SIGINT it sends itself ends nothing, and the
  // install, aborted, then exited 0 as if it had worked.
  it("install stopped by SIGINT as PID 1 of a PID namespace exits 130", async function () {
    const probe = spawnSync("unshare", ["--user", "--map-root-user", "--pid", "--fork", "true"]);
    if (probe.status !== 0) this.skip();  // no unshare, or no user namespaces here
    // The CLI's process, PID 1 in its namespace: unshare's child.
    const { ended, stderr, left } = await interruptedInstall(["unshare", "--user", "--map-root-user", "--pid", "--fork"],
      (child) => Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim()));
    expect(ended, stderr).to.equal(130);
    expect(stderr).to.match(/^inaccel: ABORTED: the install of .*scale\.tgz was aborted\n$/);
    expect(left).to.deep.equal([]);
  });

  it("reports errors as one line and exit status 1", () => {
    const env = { INACCEL_REPOSITORY: tempDir() };
    const dir = copyFixture("scale");
    editMetadata(dir, (json) => (json.colour = "blue"));
    const bad = cli(["bitstream", "install", dir], env);
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.match(/^inaccel: BITSTREAM_INVALID: .*bitstream\.json: colour: unknown field\n$/);
    const missing = cli(["bitstream", "remove", "nothing"], env);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.equal("inaccel: NOT_FOUND: no bitstream nothing is installed\n");
  });
});

/** Runs a command to its end without blocking this process; its stdout and stderr together. */
function output(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT, env: { ...process.env, ...env } });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", () => resolve(text));
  });
}

/** A fresh repository with the scale fixture installed through the CLI, then `alter`ed; its environment. */
function installedScale(alter: (folder: string) => void): { INACCEL_REPOSITORY: string; INACCEL_SYSTEM_REPOSITORIES: string } {
  const env = { INACCEL_REPOSITORY: tempDir(), INACCEL_SYSTEM_REPOSITORIES: "" };
  expect(cli(["bitstream", "install", path.join(FIXTURES, "scale")], env).status).to.equal(0);
  alter(path.join(env.INACCEL_REPOSITORY, "fixture", "1.2.0"));
  return env;
}

/** Writes over an installed (read-only) file. */
function overwrite(file: string, text: string): void {
  fs.chmodSync(file, 0o644);
  fs.writeFileSync(file, text);
}
