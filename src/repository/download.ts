import fs from "node:fs";
import { InaccelError } from "../errors";
import type { DownloadProgress } from "./types";

/**
 * Downloads an http(s) URL to `file`, refusing more than `maxBytes`, and
 * tells `onProgress` after each chunk. Any failure (unreachable host, HTTP
 * status other than 2xx, size) is DOWNLOAD_FAILED naming the URL and, where
 * there is one, the status.
 */
export async function download(
  url: string, file: string, maxBytes: number, onProgress?: (progress: DownloadProgress) => void,
): Promise<void> {
  const fail = (reason: string, cause?: unknown): InaccelError =>
    new InaccelError("DOWNLOAD_FAILED", `${url}: ${reason}`, { cause });
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    throw fail(`unreachable (${cause?.message ?? (error as Error).message})`, error);
  }
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
}
