import type { Device } from "./device";
import { InaccelError, fromNative } from "./errors";
import { isReleased } from "./memory";
import type { NativeArg, NativeJob } from "./native";
import { repository } from "./catalog";
import type { ArgValue, Request } from "./request";
import { typeArguments, type TypedArg } from "./repository/arguments";
import type { ResolvedKernel } from "./repository";
import { runtime } from "./runtime";

/** Options of {@link submit}. */
export interface SubmitOptions {
  /** Run on this device (its `id` from {@link devices}) instead of letting the library choose. */
  device?: number;
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
const ACCESS = { r: 0, w: 1, rw: 2 } as const;

/**
 * Runs a request on whichever device fits it best (one that already holds
 * the accelerator's bitstream, else the least busy one) and resolves once
 * every output is back in its host array. Many requests may be in flight at
 * once; the JS thread never waits on a device.
 *
 * @throws InaccelError `UNKNOWN_ACCELERATOR`, `BAD_ARGUMENT`, `RELEASED`, `NO_DEVICE`,
 * `NO_RUNTIME`, `DEVICE_BUSY`, `DEVICE_ERROR` (as a rejected promise).
 */
export async function submit(req: Request, options: SubmitOptions = {}): Promise<SubmitResult> {
  const rt = runtime();
  req.args.forEach((value, index) => {
    if (ArrayBuffer.isView(value) && isReleased(value)) {
      throw new InaccelError("RELEASED", `argument ${index} of ${req.accelerator} was released`);
    }
  });
  let fitting = repository.candidates(req.accelerator, rt.devices);
  if (options.device !== undefined) {
    const only = fitting.get(options.device);
    if (!only) {
      throw new InaccelError("NO_DEVICE", `device ${options.device} is not in use here or cannot run ${req.accelerator}`);
    }
    fitting = new Map([[options.device, only]]);
  }
  const kernels = [...fitting.entries()];
  const [, first] = kernels[0]!;
  // Bitstreams of one accelerator id share its signature: the first one types the arguments.
  const args = typeArguments(req.accelerator, first.arguments, req.args);
  const job: NativeJob = {
    accelerator: req.accelerator,
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
    })),
    args: args.map(toNative),
    globalSize: globalSize(first, req.args),
  };
  try {
    const outcome = await rt.native.submit(job);
    return {
      device: rt.devices[outcome.device]!,
      accelerator: req.accelerator,
      queuedMs: outcome.queuedNs / 1e6,
      runMs: outcome.runNs / 1e6,
      reconfigured: outcome.reconfigured,
    };
  } catch (error) {
    throw fromNative(error);
  }
}

function toNative(arg: TypedArg): NativeArg {
  if (arg.kind === "scalar") return { scalar: arg.bytes };
  return arg.memory === undefined
    ? { buffer: arg.view, access: ACCESS[arg.access] }
    : { buffer: arg.view, access: ACCESS[arg.access], memory: arg.memory };
}

// The kernel's `workSize` argument, rounded up to the work-group multiple;
// kernels without one are single work-item tasks (the FPGA style). The
// value was range-checked by typeArguments.
function globalSize(kernel: ResolvedKernel, values: readonly ArgValue[]): number {
  if (!kernel.workSize) return 1;
  const value = values[kernel.arguments.findIndex((a) => a.name === kernel.workSize)];
  const items = Math.max(1, Number(value ?? 1));
  return Math.ceil(items / WORK_GROUP_MULTIPLE) * WORK_GROUP_MULTIPLE;
}
