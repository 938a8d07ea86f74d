import type { Command } from "commander";
import { portOption, print, stateDirOption, untilSignal, type InsightOptions } from "../insight/cli";
import { pathOf, serveLocal } from "../insight/http";
import { exposition } from "../insight/prometheus";
import { hostDevices, readStats } from "../stats";

/** Default port of `inaccel metrics`. */
export const METRICS_PORT = 9477;

/**
 * Adds `inaccel metrics [--port N]`: serves the state file's counters and
 * gauges in the Prometheus text format at http://127.0.0.1:N/metrics, read
 * afresh on every scrape, until SIGINT or SIGTERM.
 */
export function register(program: Command): void {
  program
    .command("metrics")
    .description(`serve Prometheus metrics on http://127.0.0.1:<port>/metrics (default port ${METRICS_PORT})`)
    .addOption(stateDirOption())
    .addOption(portOption(METRICS_PORT))
    .action(async (options: InsightOptions & { port: number }) => {
      const { devices } = hostDevices();
      const server = await serveLocal(options.port, (req, res) => {
        if (pathOf(req.url) !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
          res.writeHead(404, { "Content-Type": "text/plain" }).end("not found: metrics are at /metrics\n");
          return;
        }
        Promise.resolve()
          .then(() => exposition(readStats({ stateDir: options.stateDir, devices })))
          .then(({ contentType, text }) => res.writeHead(200, { "Content-Type": contentType }).end(req.method === "GET" ? text : undefined))
          .catch((error: Error) => res.writeHead(500, { "Content-Type": "text/plain" }).end(`${error.message}\n`));
      });
      print(`serving metrics on ${server.url}/metrics`);
      await untilSignal();
      await server.close();
    });
}
