import type * as PromClient from "prom-client";
import type { Stats } from "./model";

/** A Prometheus text exposition: the body and its Content-Type. */
export interface Exposition {
  contentType: string;
  text: string;
}

/**
 * Renders a snapshot in the Prometheus text format. Series are labelled by
 * `device` (its stable key) and, per kernel, `accelerator`; counters are the
 * state file's, so they survive the processes that counted them and only go
 * back to zero when the state file is made anew.
 *
 * Each call fills a registry of its own, so concurrent scrapes never mix
 * two snapshots.
 */
export async function exposition(stats: Stats): Promise<Exposition> {
  // Loaded on first use: only `inaccel metrics` needs it, and the CLI's
  // other commands start 20 ms sooner without it.
  const { Counter, Gauge, Registry } = require("prom-client") as typeof PromClient;
  const registry = new Registry();
  const registers = [registry];
  const device = ["device"] as const;
  const kernel = ["device", "accelerator"] as const;

  const requests = new Counter({
    name: "inaccel_requests_total", help: "Requests run on a device, by accelerator and outcome (ok, failed).",
    labelNames: ["device", "accelerator", "status"] as const, registers,
  });
  const kernelBusy = new Counter({
    name: "inaccel_kernel_busy_seconds_total", help: "Seconds a device spent on an accelerator's requests (data in, kernel, data out).",
    labelNames: kernel, registers,
  });
  const deviceBusy = new Counter({
    name: "inaccel_device_busy_seconds_total", help: "Seconds a device spent on requests, all accelerators.",
    labelNames: device, registers,
  });
  const reconfigurations = new Counter({
    name: "inaccel_reconfigurations_total", help: "Times a device was configured with another bitstream.",
    labelNames: device, registers,
  });
  const configure = new Gauge({
    name: "inaccel_configure_seconds", help: "Seconds a device took to take on its last configuration (absent while unknown).",
    labelNames: device, registers,
  });
  const queueDepth = new Gauge({
    name: "inaccel_queue_depth", help: "Requests queued or running on a device, all processes.", labelNames: device, registers,
  });
  const waiting = new Gauge({
    name: "inaccel_waiting_processes", help: "Processes waiting to reconfigure a device or to lease it whole.",
    labelNames: device, registers,
  });
  const users = new Gauge({
    name: "inaccel_device_users", help: "Processes with requests queued or running on a device.", labelNames: device, registers,
  });
  const leased = new Gauge({
    name: "inaccel_device_leased", help: "1 while a process leases the whole device, else 0.", labelNames: device, registers,
  });
  const info = new Gauge({
    name: "inaccel_device_info", help: "Always 1: what a device is, its mode and the bitstream it is configured with.",
    labelNames: ["device", "name", "platform", "mode", "bitstream"] as const, registers,
  });
  const processes = new Gauge({
    name: "inaccel_processes", help: "Live processes sharing the devices of this state directory.", registers,
  });

  for (const d of stats.devices) {
    const labels = { device: d.key };
    for (const k of d.kernels) {
      requests.inc({ ...labels, accelerator: k.accelerator, status: "ok" }, k.ok);
      requests.inc({ ...labels, accelerator: k.accelerator, status: "failed" }, k.failed);
      kernelBusy.inc({ ...labels, accelerator: k.accelerator }, k.busyNs / 1e9);
    }
    deviceBusy.inc(labels, d.busyNs / 1e9);
    reconfigurations.inc(labels, d.reconfigurations);
    if (d.configureMs !== null) configure.set(labels, d.configureMs / 1e3);
    queueDepth.set(labels, d.queueDepth);
    waiting.set(labels, d.waiting);
    users.set(labels, d.users.length);
    leased.set(labels, d.lessee === null ? 0 : 1);
    info.set({
      ...labels,
      name: d.device?.name ?? "",
      platform: d.device?.platform.name ?? "",
      mode: d.mode,
      bitstream: d.bitstream ?? "",
    }, 1);
  }
  processes.set(stats.processes.length);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
