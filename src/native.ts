/**
 * The compiled addon, typed. Internal: the public API wraps every call.
 * @internal
 * @packageDocumentation
 */
import * as path from "node:path";
import type { Device } from "./device";

/** A device as discovery reports it, before this process numbers it. */
export type NativeDevice = Omit<Device, "id">;

export interface NativeProblem {
  backend: string;
  code: string;
  message: string;
}

export interface NativeBitstream {
  id: string;
  format: "source" | "binary";
  path: string;
  sha256: string;
  buildOptions?: string;
}

export type NativeArg =
  | { buffer: ArrayBufferView; access: 0 | 1 | 2; memory?: number }
  | { scalar: Uint8Array };

/** Where an accelerator may run: what `prepare` turns into a {@link NativePlan}. */
export interface NativePlanSpec {
  accelerator: string;
  candidates: { device: number; kernel: string; bitstream: NativeBitstream }[];
}

/** A prepared plan: opaque, shared by every request made with it. */
export type NativePlan = { readonly __brand: "NativePlan" };

export interface NativeOutcome {
  device: number;
  queuedNs: number;
  runNs: number;
  reconfigured: boolean;
}

export interface NativeKernelCounters {
  accelerator: string;
  ok: number;
  failed: number;
  busyNs: number;
}

export interface NativeDeviceState {
  index: number;
  key: string;
  mode: "shared" | "exclusive";
  bitstream: string;
  generation: number;
  reconfigurations: number;
  queueDepth: number;
  waiting: number;
  lessee: number;
  users: number[];
  kernels: NativeKernelCounters[];
}

export interface NativeSnapshot {
  devices: NativeDeviceState[];
  processes: { pid: number; startTime: number }[];
}

export interface Native {
  discover(): { devices: NativeDevice[]; problems: NativeProblem[] };
  open(options: { devices: number[]; modes: string[]; stateDir: string; quantumMs: number }): void;
  alloc(bytes: number): ArrayBuffer;
  release(buffer: ArrayBuffer): boolean;
  prepare(spec: NativePlanSpec): NativePlan;
  submit(plan: NativePlan, args: NativeArg[], globalSize: number): Promise<NativeOutcome>;
  lease(device: number, wait: boolean): void;
  unlease(device: number): void;
  snapshot(): NativeSnapshot;
  inspect(stateDir: string): NativeSnapshot;
}

let loaded: Native | undefined;

/** The addon of this thread (it is context-aware: one per worker thread). */
export function native(): Native {
  // src/ and dist/ sit side by side, so this path holds from either.
  loaded ??= require(path.join(__dirname, "..", "build", "Release", "inaccel.node")) as Native;
  return loaded;
}
