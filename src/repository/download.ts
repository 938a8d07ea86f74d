import fs from "node:fs";
import { InaccelError } from "../errors";
import type { DownloadProgress } from "./types";

/** What {@link download} is bounded by and told. */
export interface DownloadOptions {
  maxBytes: number;
  /** How long it may go without receiving anything, in ms. */
  stallMs: number;
  onProgress?: (progress: DownloadProgress) => void;
  /** The install's signal: an abort rejects with what `aborted` makes. */
  signal?: AbortSignal;
  aborted: () => InaccelError;
}

/**
 * Downloads an http(s) URL to `file`, refusing more than `maxBytes`, and
 * tells `onProgress` after each chunk. Any failure (unreachable host, HTTP
 * status other than 2xx, size, nothing received for `stallMs`) is
 * DOWNLOAD_FAILED naming the URL and, where there is one, the status.
 */
export async function download(url: string, file: string, options: DownloadOptions): Promise<void> {
  const { maxBytes, stallMs, onProgress, signal } = options;
  // Without this, a server that never answers or stops sending holds the
  // install for the 5 minutes of fetch's own timeouts.
  const stalled = new AbortController();
  const timer = setTimeout(() => stalled.abort(), stallMs);  // refreshed by whatever comes
  const fail = (reason: string, cause?: unknown): InaccelError => {
    if (signal?.aborted) return options.aborted();
    if (stalled.signal.aborted) return new InaccelError("DOWNLOAD_FAILED", `${url}: nothing received for ${stallMs} ms`);
    return new InaccelError("DOWNLOAD_FAILED", `${url}: ${reason}`, { cause });
  };
  try {
    let response: Response;
    try {
      response = await fetch(url, { redirect: "follow", signal: signal ? AbortSignal.any([signal, stalled.signal]) : stalled.signal });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause;
      throw fail(`unreachable (${cause?.message ?? (error as Error).message})`, error);
    }
    timer.refresh();
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw fail(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    const declared = Number(response.headers.get("content-length") ?? 0);
    if (declared > maxBytes) {
      await response.body.cancel();
      throw fail(`is ${declared} bytes, more than the ${maxBytes}-byte limit`);
    }
    const fd = fs.openSync(file, "wx", 0o600);
    let total = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        timer.refresh();
        total += chunk.byteLength;
        if (total > maxBytes) throw fail(`is more than the ${maxBytes}-byte limit`);
        fs.writeSync(fd, chunk);
        onProgress?.(declared > 0 ? { received: total, total: declared } : { received: total });
      }
    } catch (error) {
      throw error instanceof InaccelError ? error : fail(`transfer broke off: ${(error as Error).message}`, error);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    clearTimeout(timer);
  }
}
