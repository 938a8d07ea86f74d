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

/**
 * Where an accelerator may run and how its arguments pass: what `prepare`
 * turns into a {@link NativePlan}. `access` has one entry per argument:
 * 0 read, 1 write, 2 read-write (buffers), -1 scalar; each candidate's
 * `memory` one too: the bank of a buffer argument, -1 for the backend's choice.
 * A candidate's `chunkArg` is the index of the work-size argument of an
 * element-wise kernel (the backend may run a large request in chunks), else -1.
 */
export interface NativePlanSpec {
  accelerator: string;
  access: number[];
  candidates: { device: number; kernel: string; bitstream: NativeBitstream; memory: number[]; chunkArg: number }[];
}

/** A prepared plan: opaque, shared by every request made with it. */
export type NativePlan = { readonly __brand: "NativePlan" };

/**
 * Called on the JS thread with `count` finished requests, as records of
 * {@link RECORD_FIELDS} numbers at the start of the array `open` returned:
 * [slot, device (engine index), queuedNs, runNs, flags ({@link RECORD_OK},
 * {@link RECORD_RECONFIGURED})], and the errors of the failed ones in record order.
 */
export type NativeSettle = (count: number, errors: Error[] | undefined) => void;
export const RECORD_FIELDS = 5;
export const RECORD_OK = 1;
export const RECORD_RECONFIGURED = 2;

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
  configureNs: number;
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
  /** Opens the engine; finished requests go to `settle`, their records in the array returned. */
  open(options: { devices: number[]; modes: string[]; stateDir: string; quantumMs: number }, settle: NativeSettle): Float64Array;
  alloc(bytes: number): ArrayBuffer;
  release(buffer: ArrayBuffer): boolean;
  prepare(spec: NativePlanSpec): NativePlan;
  /**
   * Starts a request: `args` as typeArguments gives them (buffers' typed
   * arrays, scalars' bytes), `slot` the caller's number for it, handed back
   * to the settle callback. The caller keeps `args` alive until then.
   */
  submit(plan: NativePlan, globalSize: number, slot: number, ...args: ArrayBufferView[]): void;
  /** Takes the requests of `slots` still queued off their devices' queues, to settle as ABORTED; how many it took. */
  cancel(slots: number[]): number;
  /**
   * Leases a device whole on a thread of its own; `done` is called once the
   * wait ends, with the error when it failed. Returns the ticket for
   * `abortLease`, which makes a wait not yet ended fail with ABORTED.
   */
  lease(device: number, wait: boolean, done: (error?: Error) => void): number;
  abortLease(ticket: number): void;
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
