import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { expect } from "chai";
import { chromium, type Browser, type Page } from "playwright-core";
import * as inaccel from "../src/index";
import { startDashboard } from "../src/insight/dashboard";
import type { Stats } from "../src/insight/model";
import { readStats } from "../src/stats";
import { ROOT, runChild } from "./helpers/child";

const ARTIFACTS = path.join(ROOT, "test", "artifacts");
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

// `dashboard.add` works (y = x + 1); `dashboard.broken` names a kernel
// function the program lacks: it passes the argument checks and fails on
// the device, every time.
async function installFixture(): Promise<void> {
  const dir = path.join(process.env.INACCEL_TEST_ROOT!, "dashboard-bitstream");
  const args = [
    { name: "x", type: "float*", access: "r", length: "n" },
    { name: "y", type: "float*", access: "w", length: "n" },
    { name: "n", type: "int" },
  ];
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kernels.cl"),
    "__kernel void add_one(__global const float* x, __global float* y, int n) {\n  int i = get_global_id(0);\n  if (i < n) y[i] = x[i] + 1.0f;\n}\n");
  fs.writeFileSync(path.join(dir, "bitstream.json"), JSON.stringify({
    bitstreamId: "dashboard",
    version: "1.0.0",
    kernels: [
      { name: "add_one", kernelId: "add", workSize: "n", arguments: args },
      { name: "no_such_kernel", kernelId: "broken", workSize: "n", arguments: args },
    ],
  }));
  await inaccel.repository.install(dir);
}

const ROUNDS = 60, OK = 8, FAILED = 2; // per round: 8 ok, 2 failed, then a pause

// Requests at a steady pace for a few seconds, so the page sees them run.
const PACED = `
  const inaccel = require("./src/index");
  const n = 4096, x = inaccel.alloc(Float32Array, n);
  x.fill(1);
  (async () => {
    let ok = 0, failed = 0;
    for (let round = 0; round < ${ROUNDS}; round++) {
      await Promise.all(Array.from({ length: ${OK + FAILED} }, (_, i) => {
        const y = inaccel.alloc(Float32Array, n);
        return inaccel.submit(inaccel.request(i < ${FAILED} ? "dashboard.broken" : "dashboard.add").arg(x).arg(y).arg(n))
          .then(() => ok++, () => failed++);
      }));
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    console.log(JSON.stringify({ ok, failed }));
  })();
`;

/**
 * What the page's kernel table shows for one accelerator, summed over
 * devices. (The page-side callbacks stay anonymous: tsx would wrap named
 * ones in a helper the page lacks.)
 */
async function shown(page: Page, accelerator: string): Promise<{ ok: number; failed: number }> {
  const rows = await page.$$eval("#kernels tbody tr", (trs) => trs.map((tr) => ({
    accelerator: tr.getAttribute("data-accelerator"),
    ok: Number(tr.querySelector('[data-field="ok"]')!.textContent),
    failed: Number(tr.querySelector('[data-field="failed"]')!.textContent),
  })));
  const mine = rows.filter((row) => row.accelerator === accelerator);
  return { ok: mine.reduce((n, row) => n + row.ok, 0), failed: mine.reduce((n, row) => n + row.failed, 0) };
}

describe("dashboard in headless Chromium", function () {
  this.timeout(180000);
  let server: ChildProcess;
  let url: string;
  let browser: Browser;

  before(async () => {
    await installFixture();
    server = spawn(process.execPath, ["--require", "tsx/cjs", "src/cli/main.ts", "dashboard", "--port", "0", "--interval", "200"], { cwd: ROOT });
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const found = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (found) resolve(found[1]!);
      });
      server.on("close", (code) => reject(new Error(`inaccel dashboard exited (${code})`)));
    });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
  });

  it("serves the page with a strict CSP, and only to its own Host", async () => {
    const page = await fetch(url);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-security-policy")).to.include("default-src 'none'");
    const foreign = await new Promise<number | undefined>((resolve, reject) =>
      http.get(url, { headers: { Host: "attacker.example" } }, (res) => resolve(res.resume().statusCode)).on("error", reject));
    expect(foreign).to.equal(403);
  });

  it("answers odd requests with 404 and goes on serving", async () => {
    const { hostname, port } = new URL(url);
    // Raw, as sent: a client library would normalise these targets.
    const status = (line: string) => new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname);
      let answer = "";
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      socket.on("close", () => resolve(answer.split("\r\n")[0]!));
      socket.on("error", reject);
      socket.end(`${line} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    });
    for (const line of ["GET //[", "GET //dashboard.js", "GET http://[x/events", "POST /events", "HEAD /events", "DELETE /"]) {
      expect(await status(line), line).to.equal("HTTP/1.1 404 Not Found");
    }
    expect((await fetch(url)).status).to.equal(200);
  });

  it("drops an /events client that stops reading, before its backlog grows past the bound", async () => {
    // Samples of about 1 MiB each: the socket's buffers fill within a few.
    const big: Stats = { time: 0, stateDir: "x".repeat(1 << 20), devices: [], processes: [] };
    const dashboard = await startDashboard({ port: 0, intervalMs: 20, history: 1, backlogBytes: 1 << 16, read: () => ({ ...big, time: Date.now() }) });
    try {
      const { hostname, port } = new URL(dashboard.url);
      const socket = net.connect(Number(port), hostname);
      socket.write(`GET /events HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      socket.pause();  // and never read (nor see the server let go: its side is watched)
      const connections = () => new Promise<number>((resolve, reject) =>
        dashboard.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      for (const deadline = Date.now() + 5000; (await connections()) === 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await connections(), "the client connected").to.equal(1);
      for (const deadline = Date.now() + 30000; (await connections()) > 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await connections(), "the client was kept").to.equal(0);
      socket.destroy();
    } finally {
      await dashboard.close();
    }
  });

  it("counts and charts requests live while two devices run them, then shows the exact totals", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
    await page.goto(url);
    await page.waitForSelector("#status.live");

    let finished = false;
    const running = runChild(PACED, {}, 120000).finally(() => (finished = true));
    const during = new Set<number>();
    while (!finished) {
      during.add((await shown(page, "dashboard.add")).ok);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const child = await running;
    expect(child.code, child.stderr).to.equal(0);
    expect(JSON.parse(child.stdout)).to.deep.equal({ ok: ROUNDS * OK, failed: ROUNDS * FAILED });
    expect([...during].some((ok) => ok > 0 && ok < ROUNDS * OK), `values shown while running: ${[...during]}`).to.equal(true);

    for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
      const [add, broken] = await Promise.all([shown(page, "dashboard.add"), shown(page, "dashboard.broken")]);
      if (add.ok === ROUNDS * OK && broken.failed === ROUNDS * FAILED) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await shown(page, "dashboard.add")).to.deep.equal({ ok: ROUNDS * OK, failed: 0 });
    expect(await shown(page, "dashboard.broken")).to.deep.equal({ ok: 0, failed: ROUNDS * FAILED });

    const stats = readStats();
    const total = (field: "ok" | "failed") => stats.devices.reduce((n, d) => n + d[field], 0);
    expect(await page.textContent('[data-total="ok"]')).to.equal(String(total("ok")));
    expect(await page.textContent('[data-total="failed"]')).to.equal(String(total("failed")));
    expect(await page.locator("#devices tbody tr").count()).to.equal(stats.devices.length);

    // Both charts drew a line per series, and requests/s rose above zero while the child ran.
    expect(await page.locator("#chart-busy polyline").count()).to.equal(stats.devices.length);
    const peaks = await page.$$eval("#legend-rps li", (items) =>
      items.filter((li) => li.dataset.series!.startsWith("dashboard.add")).map((li) => Number(li.dataset.peak)));
    expect(Math.max(...peaks)).to.be.greaterThan(0);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
    expect(problems).to.deep.equal([]);
  });
});
