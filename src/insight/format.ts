import Table from "cli-table3";
import type { DeviceStats } from "./model";

/** A cli-table3 table with `head`, plain (no colours) when stdout is not a terminal. */
export function table(head: string[]): Table.Table {
  return new Table({ head, ...(!process.stdout.isTTY && { style: { head: [], border: [] } }) });
}

/** `0: cpu-haswell-...` when the device is known, else its key. */
export function deviceLabel(device: DeviceStats): string {
  return device.device ? `${device.device.id}: ${device.device.name}` : device.key;
}

/** A fraction as a percentage with one decimal, `-` when unknown. */
export function percent(fraction: number | undefined): string {
  return fraction === undefined ? "-" : `${(fraction * 100).toFixed(1)}%`;
}

/** A rate with one decimal, `-` when unknown. */
export function perSecond(rate: number | undefined): string {
  return rate === undefined ? "-" : rate.toFixed(1);
}

/** Pids as a comma-separated list, `-` when none. */
export function pids(list: readonly number[]): string {
  return list.length ? list.join(",") : "-";
}
