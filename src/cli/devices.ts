import type { Command } from "commander";
import { pids, table } from "../insight/format";
import { print, stateDirOption, type InsightOptions } from "../insight/cli";
import { configPath, readHostConfig, unmatchedDevices, type Reservation } from "../config";
import type { Stats } from "../insight/model";
import { hostDevices, readStats } from "../stats";

/**
 * Adds `inaccel devices [--json]`: every device of the host with its
 * platform and the arbiter's state of it (configured bitstream, mode,
 * lessee, processes using it, queue depth), read from the state file.
 */
export function register(program: Command): void {
  program
    .command("devices")
    .description("list the host's devices: platform, configured bitstream, mode, lessee, processes using it, queue depth")
    .addOption(stateDirOption())
    .option("--json", "print the snapshot as JSON")
    .action((options: InsightOptions & { json?: boolean }) => {
      const { devices, problems } = hostDevices();
      const stats = readStats({ stateDir: options.stateDir, devices });
      if (options.json) {
        print(JSON.stringify(stats, null, 2));
        return;
      }
      // Why discovery found nothing; a backend missing beside others that work is no news.
      if (devices.length === 0) for (const problem of problems) process.stderr.write(`inaccel: ${problem}\n`);
      for (const name of unmatchedDevices(readHostConfig(), devices)) {
        process.stderr.write(`inaccel: ${configPath()} names device "${name}", which this host does not have: its settings apply to nothing\n`);
      }
      print(render(stats));
    });
}

// `alice, 1001, group accel`: whom a device is reserved for.
function reserved(reservation: Reservation): string {
  const whom = [...reservation.users, ...reservation.groups.map((group) => `group ${group}`)];
  // Not "nobody": that reads as the user of that name.
  return whom.length ? whom.join(", ") : "no one";
}

function render(stats: Stats): string {
  const out = table(["id", "key", "type", "platform", "mode", "bitstream", "lessee", "users", "queue"]);
  for (const d of stats.devices) {
    out.push([
      d.device?.id ?? "-",
      d.key,
      d.device?.type ?? "-",
      d.device?.platform.name ?? "-",
      d.reservedFor ? `${d.mode}, for ${reserved(d.reservedFor)}` : d.mode,
      d.bitstream ?? "-",
      d.lessee ?? "-",
      pids(d.users),
      d.queueDepth,
    ]);
  }
  const live = stats.processes.length;
  return `${out.toString()}\n${live} live ${live === 1 ? "process shares" : "processes share"} ${stats.stateDir}`;
}
