/**
 * inaccel: accelerators as a function call.
 *
 * @example
 * import * as inaccel from "inaccel";
 * const a = inaccel.alloc(Float32Array, n), b = inaccel.alloc(Float32Array, n), c = inaccel.alloc(Float32Array, n);
 * await inaccel.submit(inaccel.request("vector.addition").arg(a).arg(b).arg(c).arg(n));
 *
 * @packageDocumentation
 */
export { alloc, release, type TypedArrayConstructor } from "./memory";
export { request, Request, type ArgValue } from "./request";
export { submit, type SubmitOptions, type SubmitResult } from "./submit";
export { devices } from "./runtime";
export { lease, type DeviceLease, type LeaseOptions } from "./lease";
export { stats, type Stats, type DeviceStats, type KernelStats, type ProcessStats } from "./stats";
export { repository } from "./catalog";
export {
  Repository,
  type BitstreamSummary, type DownloadProgress, type InstallOptions, type InstallResult, type RepositoryOptions,
  type UnreadableFolder, type VerifyResult,
} from "./repository";
export { InaccelError, type ErrorCode } from "./errors";
export type { Device, Platform } from "./device";
export type { DeviceConfig, DeviceMode, HostConfig, Reservation } from "./config";
