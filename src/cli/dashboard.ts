import type { Command } from "commander";
import { intervalOption, portOption, print, stateDirOption, untilSignal, type InsightOptions } from "../insight/cli";
import { startDashboard } from "../insight/dashboard";
import { hostDevices, readStats } from "../stats";

/** Default port of `inaccel dashboard`. */
export const DASHBOARD_PORT = 9478;

/**
 * Adds `inaccel dashboard [--port N]`: a live web page on
 * http://127.0.0.1:N/ charting utilisation per device and requests/s per
 * kernel from the state file, until SIGINT or SIGTERM.
 */
export function register(program: Command): void {
  program
    .command("dashboard")
    .description(`serve a live web dashboard on http://127.0.0.1:<port>/ (default port ${DASHBOARD_PORT})`)
    .addOption(stateDirOption())
    .addOption(portOption(DASHBOARD_PORT))
    .addOption(intervalOption())
    .action(async (options: InsightOptions & { port: number; interval: number }) => {
      const { devices } = hostDevices();
      const dashboard = await startDashboard({
        port: options.port,
        intervalMs: options.interval,
        read: () => readStats({ stateDir: options.stateDir, devices }),
        onError: (error) => process.stderr.write(`inaccel: ${(error as Error).message}\n`),
      });
      print(`dashboard on ${dashboard.url}/`);
      await untilSignal();
      await dashboard.close();
    });
}
