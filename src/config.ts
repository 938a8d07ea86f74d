import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Device } from "./device";
import { InaccelError } from "./errors";

/** How a device is shared among processes. */
export type DeviceMode = "shared" | "exclusive";

/** What the host configuration says of one device. */
export interface DeviceConfig {
  mode?: DeviceMode;
  /**
   * Reserve the device: only processes of these users (names, or uids as
   * numbers or strings), or of users in `groups`, use it. Unset: every user.
   */
  users?: (string | number)[];
  /** Reserve the device to processes in these groups (names, or gids as numbers or strings); see `users`. */
  groups?: (string | number)[];
}

/** The host configuration file (`/etc/inaccel/config.json`, or `INACCEL_CONFIG`). */
export interface HostConfig {
  /** Per device, by stable key (as `inaccel devices` shows it) or by index. */
  devices?: Record<string, DeviceConfig>;
  /** Where processes meet: the arbiter's state directory. */
  stateDir?: string;
  /** Milliseconds a configuration is kept while it has users waiting. */
  quantumMs?: number;
}

// A user or group: its name, or its id as a number.
const NAME_OR_ID = { type: ["string", "integer"], minLength: 1, maxLength: 256, minimum: 0 } as const;

const schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    devices: {
      type: "object",
      // An index in its usual form, or a stable key (backend/platform/name/ordinal).
      propertyNames: { pattern: "^(?:0|[1-9][0-9]*)$|/" },
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        properties: {
          mode: { enum: ["shared", "exclusive"] },
          users: { type: "array", maxItems: 1024, items: NAME_OR_ID },
          groups: { type: "array", maxItems: 1024, items: NAME_OR_ID },
        },
      },
    },
    // Absolute: a relative one would resolve against each process's working
    // directory, and processes started elsewhere would silently not meet.
    stateDir: { type: "string", pattern: "^/" },
    quantumMs: { type: "number", minimum: 0, maximum: 60000 },
  },
} as const;

// Compiled on first use: most hosts have no configuration file, and ajv
// is a good part of the package's import time.
let compiled: ValidateFunction<HostConfig> | undefined;
function validator(): ValidateFunction<HostConfig> {
  if (!compiled) {
    const { default: Ajv } = require("ajv") as typeof import("ajv");
    compiled = new Ajv({ allErrors: true, allowUnionTypes: true }).compile<HostConfig>(schema);
  }
  return compiled;
}

/** Default directory where sharing processes meet (see docs/arbiter.md). */
export const DEFAULT_STATE_DIR = "/dev/shm/inaccel";

/**
 * The state directory: `INACCEL_STATE_DIR`, else the host config's, else
 * {@link DEFAULT_STATE_DIR}. Absolute, as the config's must be: a relative
 * one would differ with each process's working directory (CONFIG_INVALID).
 */
export function stateDirectory(config: HostConfig = readHostConfig()): string {
  const fromEnv = process.env.INACCEL_STATE_DIR;
  if (fromEnv && !path.isAbsolute(fromEnv)) {
    throw new InaccelError("CONFIG_INVALID", `INACCEL_STATE_DIR must be an absolute path, got "${fromEnv}"`);
  }
  return fromEnv || config.stateDir || DEFAULT_STATE_DIR;
}

/** Upper bound on the host configuration file's size. */
const CONFIG_FILE_MAX = 1 << 20;

/** Default path of the host configuration file. */
export const DEFAULT_CONFIG_PATH = "/etc/inaccel/config.json";

/** The host configuration file's path: `INACCEL_CONFIG`, else {@link DEFAULT_CONFIG_PATH}. */
export function configPath(): string {
  return process.env.INACCEL_CONFIG || DEFAULT_CONFIG_PATH;
}

/** Reads the host configuration; a missing file means all defaults. */
export function readHostConfig(file = configPath()): HostConfig {
  let text: string;
  try {
    // Looked at first: reading a FIFO would block, and /dev/zero never end.
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new InaccelError("CONFIG_INVALID", `${file} is not a file`);
    if (stat.size > CONFIG_FILE_MAX) throw new InaccelError("CONFIG_INVALID", `${file} is over ${CONFIG_FILE_MAX} bytes`);
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (error instanceof InaccelError) throw error;
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
    // A bad device name is told once, by propertyNames, not again by its pattern.
    const errors = (validate.errors ?? []).filter((e) => e.propertyName === undefined);
    const why = errors.map((e) => `${e.instancePath || "/"} ${explain(e)}`).join("; ");
    throw new InaccelError("CONFIG_INVALID", `${file}: ${why}`);
  }
  return parsed;
}

// ajv's message, in an operator's words where it leaves out what they need:
// "must NOT have additional properties" does not say which (the misspelled one).
function explain(error: ErrorObject): string {
  if (error.keyword === "additionalProperties") return `has an unknown field "${String(error.params.additionalProperty)}"`;
  if (error.keyword === "pattern" && error.params.pattern === "^/") return "must be an absolute path";
  if (error.keyword === "propertyNames") {
    return `names a device "${String(error.params.propertyName)}" by neither its index (0, 1, ...) nor its key (as \`inaccel devices\` shows it)`;
  }
  return error.message ?? "";
}

/** The mode the configuration gives `device`. */
export function modeOf(config: HostConfig, device: Device): DeviceMode {
  return entryOf(config, device)?.mode ?? "shared";
}

/** Who a process runs as: its user's name and uid, its groups' gids and names. */
export interface Identity {
  user: string;
  uid: number;
  gids: number[];
  groups: string[];
}

/** The users and groups a device is reserved for, as the host configuration lists them. */
export interface Reservation {
  users: string[];
  groups: string[];
}

/** Whom the configuration reserves `device` for; undefined when every user may use it. */
export function reservationOf(config: HostConfig, device: Device): Reservation | undefined {
  const entry = entryOf(config, device);
  if (entry?.users === undefined && entry?.groups === undefined) return undefined;
  return { users: (entry.users ?? []).map(String), groups: (entry.groups ?? []).map(String) };
}

/** Whether the configuration lets a process of `who` use `device` (see {@link DeviceConfig.users}). */
export function mayUse(config: HostConfig, device: Device, who: Identity): boolean {
  const reserved = reservationOf(config, device);
  if (!reserved) return true;
  return reserved.users.some((user) => user === who.user || user === String(who.uid)) ||
    reserved.groups.some((group) => who.groups.includes(group) || who.gids.some((gid) => group === String(gid)));
}

/**
 * The device names of `config` (indexes or keys) that match none of
 * `devices`, the host's: settings that apply to nothing here, such as a
 * misspelled key, or a card the host does not have.
 */
export function unmatchedDevices(config: HostConfig, devices: readonly Device[]): string[] {
  const names = new Set(devices.flatMap((device) => [String(device.id), device.key]));
  return Object.keys(config.devices ?? {}).filter((name) => !names.has(name));
}

// The entry for a device: the one by its index, and over it the one by its stable key.
function entryOf(config: HostConfig, device: Device): DeviceConfig | undefined {
  const byIndex = config.devices?.[String(device.id)];
  const byKey = config.devices?.[device.key];
  return byIndex && byKey ? { ...byIndex, ...byKey } : byKey ?? byIndex;
}

/** Upper bound on what is read of the group database. */
const GROUP_FILE_MAX = 4 << 20;

/**
 * This process's identity. Group names come from `/etc/group` (the local
 * database; a group only a directory service knows matches by gid).
 */
export function currentIdentity(groupFile = "/etc/group"): Identity {
  const uid = process.getuid?.() ?? -1;
  let user = String(uid);
  try {
    user = os.userInfo().username;
  } catch {
    // a uid without a passwd entry (containers): it matches by number
  }
  const gids = [...new Set([...(process.getgroups?.() ?? []), ...(process.getegid ? [process.getegid()] : [])])];
  const groups: string[] = [];
  let text = "";
  try {
    if (fs.statSync(groupFile).size <= GROUP_FILE_MAX) text = fs.readFileSync(groupFile, "utf8");
  } catch {
    // no group database: gids only
  }
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name && gid !== undefined && /^\d+$/.test(gid) && gids.includes(Number(gid))) groups.push(name);
  }
  return { user, uid, gids, groups };
}
