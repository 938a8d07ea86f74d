import * as fs from "node:fs";
import type { ValidateFunction } from "ajv";
import type { Device } from "./device";
import { InaccelError } from "./errors";

/** How a device is shared among processes. */
export type DeviceMode = "shared" | "exclusive";

/** The host configuration file (`/etc/inaccel/config.json`, or `INACCEL_CONFIG`). */
export interface HostConfig {
  /** Per device, by stable key (as `inaccel devices` shows it) or by index. */
  devices?: Record<string, { mode?: DeviceMode }>;
  /** Where processes meet: the arbiter's state directory. */
  stateDir?: string;
  /** Milliseconds a configuration is kept while it has users waiting. */
  quantumMs?: number;
}

const schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    devices: {
      type: "object",
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        properties: { mode: { enum: ["shared", "exclusive"] } },
      },
    },
    stateDir: { type: "string", minLength: 1 },
    quantumMs: { type: "number", minimum: 0, maximum: 60000 },
  },
} as const;

// Compiled on first use: most hosts have no configuration file, and ajv
// is a good part of the package's import time.
let compiled: ValidateFunction<HostConfig> | undefined;
function validator(): ValidateFunction<HostConfig> {
  if (!compiled) {
    const { default: Ajv } = require("ajv") as typeof import("ajv");
    compiled = new Ajv({ allErrors: true }).compile<HostConfig>(schema);
  }
  return compiled;
}

/** Default directory where sharing processes meet (see docs/arbiter.md). */
export const DEFAULT_STATE_DIR = "/dev/shm/inaccel";

/** The state directory: `INACCEL_STATE_DIR`, else the host config's, else {@link DEFAULT_STATE_DIR}. */
export function stateDirectory(config: HostConfig = readHostConfig()): string {
  return process.env.INACCEL_STATE_DIR || config.stateDir || DEFAULT_STATE_DIR;
}

/** Default path of the host configuration file. */
export const DEFAULT_CONFIG_PATH = "/etc/inaccel/config.json";

/** Reads the host configuration; a missing file means all defaults. */
export function readHostConfig(file = process.env.INACCEL_CONFIG || DEFAULT_CONFIG_PATH): HostConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new InaccelError("CONFIG_INVALID", `cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InaccelError("CONFIG_INVALID", `${file} is not JSON: ${(error as Error).message}`);
  }
  const validate = validator();
  if (!validate(parsed)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`).join("; ");
    throw new InaccelError("CONFIG_INVALID", `${file}: ${why}`);
  }
  return parsed;
}

/** The mode the configuration gives `device`. */
export function modeOf(config: HostConfig, device: Device): DeviceMode {
  const entry = config.devices?.[device.key] ?? config.devices?.[String(device.id)];
  return entry?.mode ?? "shared";
}
