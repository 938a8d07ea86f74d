import type { Device } from "./device";
import { InaccelError, checkSignal, fromNative } from "./errors";
import { isReleased } from "./memory";
import type { NativePlan } from "./native";
import { repository } from "./catalog";
import { Request, type ArgValue } from "./request";
import { typeArguments } from "./repository/arguments";
import type { ArgumentSpec, ResolvedKernel } from "./repository";
import { parseExpression, type Expression } from "./repository/expression";
import { runtime } from "./runtime";

/** Options of {@link submit}. */
export interface SubmitOptions {
  /** Run on this device (its `id` from {@link devices}) instead of letting the library choose. */
  device?: number;
  /**
   * Aborts the request while it waits: in its device's queue (as all do
   * while another process leases the card whole), or for another
   * process's configuration to have its quantum. Its promise then rejects
   * with `ABORTED` (the signal's reason as its `cause`), and it never runs. A request the device has already
   * taken to run (data, bitstream load, kernel) runs to the end and
   * settles as usual: its arrays are in use until then. An already
   * aborted signal rejects at once.
   */
  signal?: AbortSignal;
}

/** What a finished request reports. */
export interface SubmitResult {
  /** The device that ran it. */
  device: Device;
  accelerator: string;
  /** Milliseconds from submit until the device took the request. */
  queuedMs: number;
  /** Milliseconds the device spent: data in, kernel, data out. */
  runMs: number;
  /** True when the device was (re)configured for this request. */
  reconfigured: boolean;
}

// Work-items are launched in multiples of this; kernels guard the tail.
const WORK_GROUP_MULTIPLE = 64;
// At most this many work-items from a work-size expression, which could
// otherwise ask for any number: 2^32 covers any real launch.
const MAX_WORK_ITEMS = 2 ** 32;
const ACCESS = { r: 0, w: 1, rw: 2 } as const;

/**
 * Runs a request on whichever device fits it best (one that already holds
 * the accelerator's bitstream, else the least busy one) and resolves once
 * every output is back in its host array. Many requests may be in flight at
 * once; the JS thread never waits on a device.
 *
 * A buffer argument over a resizable ArrayBuffer is refused (`BAD_ARGUMENT`):
 * it could shrink under the request. While a request is in flight, its
 * arguments' ArrayBuffers must not be transferred (`postMessage`,
 * `structuredClone` with `transfer`): nothing can prevent it, and the device
 * then reads and writes memory the new owner holds and may free (see
 * docs/api.md).
 *
 * @throws InaccelError `UNKNOWN_ACCELERATOR`, `BAD_ARGUMENT`, `RELEASED`, `NO_DEVICE`,
 * `NO_RUNTIME`, `DEVICE_BUSY`, `DEVICE_ERROR`, `ABORTED`, or what opening the devices
 * throws (see `devices()`), as a rejected promise.
 */
export function submit(req: Request, options: SubmitOptions = {}): Promise<SubmitResult> {
  // Not an async function: one promise per request instead of two, and no
  // resumption step (this is the per-request path).
  try {
    if (!(req instanceof Request)) {
      throw new InaccelError("BAD_ARGUMENT", `submit takes a Request (inaccel.request(id).arg(...)...), got ${req === null ? "null" : typeof req}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new InaccelError("BAD_ARGUMENT", `submit's options are an object ({ device, signal }), got ${options === null ? "null" : typeof options}`);
    }
    const rt = runtime();
    const values = req.args;
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (ArrayBuffer.isView(value) && isReleased(value)) {
        throw new InaccelError("RELEASED", `argument ${index} of ${req.accelerator} was released`);
      }
    }
    const plans = planFor(req.accelerator, options.device);
    let prepared = plans.groups[plans.last]!;
    let args: ArrayBufferView[];
    try {
      args = typeArguments(req.accelerator, prepared.first.arguments, values);
    } catch (error) {
      if (plans.groups.length === 1) throw error;
      ({ index: plans.last, args } = otherSignature(req.accelerator, plans, values, error));
      prepared = plans.groups[plans.last]!;
    }
    const { plan, first, workSize } = prepared;
    const size = globalSize(req.accelerator, workSize, first.arguments, values);
    const signal = checkSignal(options.signal, "submit", () => `${req.accelerator}: the signal was aborted before submit`);
    return rt.inFlight.run(req.accelerator, args, (slot) => rt.native.submit(plan, size, slot, ...args), signal);
  } catch (error) {
    return Promise.reject(fromNative(error));
  }
}

/** The candidates of one signature, made into a native plan. */
interface Prepared {
  plan: NativePlan;
  /** The kernel of the first candidate: it types the arguments. */
  first: ResolvedKernel;
  /** How its work size is found: see {@link WorkSize}. */
  workSize: WorkSize;
}

/**
 * A kernel's work size: the index of the argument that is its `workSize`
 * (the common case, read without evaluating anything), the expression that
 * is, or undefined for a single work-item task.
 */
type WorkSize = number | Expression | undefined;

/** An accelerator's candidates as native plans, one per signature. */
interface Plans {
  readonly groups: readonly Prepared[];
  /** The group tried first: the one that took the last request. */
  last: number;
}

// Versions of an accelerator on different devices may differ in signature
// (a newer one for some platform only): a request the signature tried
// first refuses runs where another takes its arguments. One that none
// takes is refused as the first device's kernel refuses it. Returns the
// group that takes them, and the arguments as it types them.
function otherSignature(accelerator: string, plans: Plans, values: readonly ArgValue[], refused: unknown): { index: number; args: ArrayBufferView[] } {
  for (let i = 0; i < plans.groups.length; i++) {
    if (i === plans.last) continue;
    try {
      return { index: i, args: typeArguments(accelerator, plans.groups[i]!.first.arguments, values) };
    } catch (error) {
      if (i === 0) refused = error;
    }
  }
  throw refused;
}

// Native plans by repository answer (kept while the repository reuses that
// answer) and then by the device asked for: made once, not per request.
const prepared = new WeakMap<ReadonlyMap<number, ResolvedKernel>, Map<number | undefined, Plans>>();

/** The plans of an accelerator's candidates (on `device` only, if given), one per signature. */
function planFor(accelerator: string, device: number | undefined): Plans {
  const rt = runtime();
  const fitting = repository.candidates(accelerator, rt.devices);
  let byDevice = prepared.get(fitting);
  if (!byDevice) {
    byDevice = new Map();
    prepared.set(fitting, byDevice);
  }
  const known = byDevice.get(device);
  if (known) return known;
  let kernels = [...fitting.entries()];
  if (device !== undefined) {
    if (!Number.isInteger(device)) {
      throw new InaccelError("BAD_ARGUMENT", `submit's device option is a device id (an integer), got ${typeof device} ${String(device)}`);
    }
    kernels = kernels.filter(([id]) => id === device);
    if (kernels.length === 0) {
      throw new InaccelError("NO_DEVICE", `device ${device} is not in use here or cannot run ${accelerator}`);
    }
  }
  const bySignature = new Map<string, [number, ResolvedKernel][]>();
  for (const entry of kernels) {
    const key = signature(entry[1]);
    const group = bySignature.get(key);
    if (group) group.push(entry);
    else bySignature.set(key, [entry]);
  }
  const made = { groups: [...bySignature.values()].map((group) => prepare(accelerator, group)), last: 0 };
  byDevice.set(device, made);
  return made;
}

// What typing a request's arguments, sizing its launch and moving its
// buffers read of a kernel. Argument names count only as positions: a
// version that renames one has the same signature.
function signature(kernel: ResolvedKernel): string {
  const names = kernel.arguments.map((a) => a.name);
  const positional = (text: string | undefined): string | null =>
    text === undefined ? null : text.replace(/[A-Za-z_][A-Za-z0-9_]*/g, (name) => `$${names.indexOf(name)}`);
  return JSON.stringify([positional(kernel.workSize),
    kernel.arguments.map((a) => [a.pointer, a.element, a.access, positional(a.length)])]);
}

function prepare(accelerator: string, kernels: readonly [number, ResolvedKernel][]): Prepared {
  const rt = runtime();
  const first = kernels[0]![1];
  try {
    const plan = rt.native.prepare({
      accelerator,
      access: first.arguments.map((spec) => (spec.pointer ? ACCESS[spec.access] : -1)),
      candidates: kernels.map(([id, kernel]) => ({
        device: rt.engineIndex.get(id)!,
        kernel: kernel.kernel,
        bitstream: {
          id: kernel.bitstream.key,
          format: kernel.bitstream.format,
          path: kernel.bitstream.path,
          sha256: kernel.bitstream.sha256,
          buildOptions: kernel.bitstream.buildOptions,
        },
        memory: kernel.arguments.map((spec) => spec.memory ?? -1),
        chunkArg: kernel.elementwise ? kernel.arguments.findIndex((a) => a.name === kernel.workSize) : -1,
      })),
    });
    return { plan, first, workSize: workSizeOf(first) };
  } catch (error) {
    throw fromNative(error);
  }
}

function workSizeOf(kernel: ResolvedKernel): WorkSize {
  if (kernel.workSize === undefined) return undefined;
  const index = kernel.arguments.findIndex((a) => a.name === kernel.workSize);
  return index >= 0 ? index : parseExpression(kernel.workSize);
}

// The kernel's work size rounded up to the work-group multiple; kernels
// without one are single work-item tasks (the FPGA style). The arguments
// were checked by typeArguments, and metadata checks that an expression
// names only integer scalars.
function globalSize(accelerator: string, workSize: WorkSize, specs: readonly ArgumentSpec[], values: readonly ArgValue[]): number {
  if (workSize === undefined) return 1;
  let items: number | bigint;
  if (typeof workSize === "number") {
    items = values[workSize] as number | bigint;
  } else {
    const scalars = new Map<string, number | bigint>();
    specs.forEach((spec, index) => {
      if (workSize.names.includes(spec.name)) scalars.set(spec.name, values[index] as number | bigint);
    });
    try {
      items = workSize.evaluate(scalars);
    } catch {
      throw new InaccelError("BAD_ARGUMENT", `${accelerator}: the work size "${workSize.text}" divides by zero`);
    }
  }
  if (items > MAX_WORK_ITEMS) {
    const text = typeof workSize === "number" ? specs[workSize]!.name : workSize.text;
    throw new InaccelError("BAD_ARGUMENT", `${accelerator}: the work size "${text}" is ${items}, more than ${MAX_WORK_ITEMS} work-items`);
  }
  return Math.ceil(Math.max(1, Number(items)) / WORK_GROUP_MULTIPLE) * WORK_GROUP_MULTIPLE;
}
