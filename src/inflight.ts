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
  // The request's abort signal, and per signal the slots it may still
  // abort and its one listener (one per request would trip Node's
  // listener-leak warning when many requests share a signal). A slot
  // leaves its signal when settled: a later abort must not reach the next
  // request of the slot.
  private readonly signals: (AbortSignal | undefined)[] = [];
  private readonly abortable = new Map<AbortSignal, { slots: Set<number>; onAbort: () => void }>();
  private readonly free: number[] = [];
  /** The records the addon writes; set once the engine is open. */
  records: Float64Array = new Float64Array(0);

  /** `cancel` takes the slots' requests off their devices' queues (Native.cancel). */
  constructor(private readonly devices: readonly Device[], private readonly cancel: (slots: number[]) => number) {}

  /**
   * A promise for a request that `start` hands to the addon under a slot.
   * When `start` throws, the slot is freed and the promise rejects. An
   * abort of `signal` while the request is still queued settles it as
   * ABORTED (through the addon, like any outcome).
   */
  run(accelerator: string, values: readonly ArrayBufferView[], start: (slot: number) => void, signal?: AbortSignal): Promise<SubmitResult> {
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
        return;
      }
      if (signal) this.watch(signal, slot);
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
      const signal = this.signals[slot];
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
        reject(fromNative(errors![failed++], signal));
      }
    }
  }

  private release(slot: number): void {
    this.resolves[slot] = undefined;
    this.rejects[slot] = undefined;
    this.accelerators[slot] = undefined;
    this.values[slot] = undefined;
    const signal = this.signals[slot];
    if (signal) {
      this.signals[slot] = undefined;
      const watched = this.abortable.get(signal);
      if (watched?.slots.delete(slot) && watched.slots.size === 0) {
        signal.removeEventListener("abort", watched.onAbort);
        this.abortable.delete(signal);
      }
    }
    this.free.push(slot);
  }

  private watch(signal: AbortSignal, slot: number): void {
    this.signals[slot] = signal;
    let watched = this.abortable.get(signal);
    if (!watched) {
      const slots = new Set<number>();
      const onAbort = (): void => {
        this.abortable.delete(signal);
        this.cancel([...slots]);
      };
      watched = { slots, onAbort };
      this.abortable.set(signal, watched);
      signal.addEventListener("abort", onAbort, { once: true });
    }
    watched.slots.add(slot);
  }
}
