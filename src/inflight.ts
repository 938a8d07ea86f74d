import type { Device } from "./device";
import { fromNative } from "./errors";
import { RECORD_FIELDS, RECORD_OK, RECORD_RECONFIGURED, type NativeSettle } from "./native";
import type { SubmitResult } from "./submit";

/**
 * The requests this thread has in flight, by slot: what settles each one's
 * promise when the addon hands back its record (see {@link NativeSettle}).
 * Slots are reused; parallel arrays, so that a request costs no object here.
 * @internal
 */
export class InFlight {
  private readonly resolves: (((result: SubmitResult) => void) | undefined)[] = [];
  private readonly rejects: (((error: unknown) => void) | undefined)[] = [];
  private readonly accelerators: (string | undefined)[] = [];
  // The request's arguments: the addon reads and writes them until settled.
  private readonly values: (readonly ArrayBufferView[] | undefined)[] = [];
  private readonly free: number[] = [];
  /** The records the addon writes; set once the engine is open. */
  records: Float64Array = new Float64Array(0);

  constructor(private readonly devices: readonly Device[]) {}

  /**
   * A promise for a request that `start` hands to the addon under a slot.
   * When `start` throws, the slot is freed and the promise rejects.
   */
  run(accelerator: string, values: readonly ArrayBufferView[], start: (slot: number) => void): Promise<SubmitResult> {
    return new Promise((resolve, reject) => {
      const slot = this.free.length > 0 ? this.free.pop()! : this.resolves.length;
      this.resolves[slot] = resolve;
      this.rejects[slot] = reject;
      this.accelerators[slot] = accelerator;
      this.values[slot] = values;
      try {
        start(slot);
      } catch (error) {
        this.release(slot);
        reject(fromNative(error));
      }
    });
  }

  /** The addon's settle callback. */
  settle(count: number, errors: Error[] | undefined): void {
    const records = this.records;
    let failed = 0;
    for (let i = 0; i < count; i++) {
      const at = i * RECORD_FIELDS;
      const slot = records[at]!;
      const resolve = this.resolves[slot]!;
      const reject = this.rejects[slot]!;
      const accelerator = this.accelerators[slot]!;
      this.release(slot);
      const flags = records[at + 4]!;
      if (flags & RECORD_OK) {
        resolve({
          device: this.devices[records[at + 1]!]!,
          accelerator,
          queuedMs: records[at + 2]! / 1e6,
          runMs: records[at + 3]! / 1e6,
          reconfigured: (flags & RECORD_RECONFIGURED) !== 0,
        });
      } else {
        reject(fromNative(errors![failed++]));
      }
    }
  }

  private release(slot: number): void {
    this.resolves[slot] = undefined;
    this.rejects[slot] = undefined;
    this.accelerators[slot] = undefined;
    this.values[slot] = undefined;
    this.free.push(slot);
  }
}
