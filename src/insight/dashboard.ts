import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import { pathOf, serveLocal, type LocalServer } from "./http";
import type { Stats } from "./model";
import { nextSample, type Sample } from "./rates";

/** The page's files: src/insight/page, found from src/ and dist/ alike (the package ships src/). */
const PAGE_DIR = path.join(__dirname, "..", "..", "src", "insight", "page");
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:";

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Milliseconds between two samples. */
  intervalMs: number;
  /** Takes a snapshot (e.g. `readStats`). */
  read: () => Stats;
  /** Samples kept and sent to a page that connects (default 300). */
  history?: number;
  /** Told of a failed read; the next one is tried at the next interval. */
  onError?: (error: unknown) => void;
  /**
   * Bytes of events an `/events` client may leave unread before it is
   * dropped (default 1 MiB): one that stops reading must not grow the
   * server without end. A page's EventSource connects again, history first.
   */
  backlogBytes?: number;
}

/**
 * Serves the dashboard on 127.0.0.1: a static page (`/`) that charts
 * utilisation per device and requests/s per kernel over time, fed by a
 * server-sent event stream (`/events`) of {@link Sample}s, one per interval,
 * the kept history first.
 */
export async function startDashboard(options: DashboardOptions): Promise<LocalServer> {
  const keep = options.history ?? 300;
  const backlog = options.backlogBytes ?? 1 << 20;
  const history: Sample[] = [];
  const clients = new Set<http.ServerResponse>();
  const page = Object.fromEntries(Object.entries(FILES).map(([url, { file, type }]) =>
    [url, { body: fs.readFileSync(path.join(PAGE_DIR, file)), type }]));

  const tick = (): void => {
    try {
      const sample = nextSample(history.at(-1), options.read());
      history.push(sample);
      if (history.length > keep) history.shift();
      const text = event(sample);
      for (const client of clients) {
        if (client.writableLength > backlog) {
          clients.delete(client);
          client.destroy();
        } else {
          client.write(text);
        }
      }
    } catch (error) {
      options.onError?.(error);
    }
  };
  tick();
  const timer = setInterval(tick, options.intervalMs);

  const served = await serveLocal(options.port, (req, res) => {
    const url = pathOf(req.url);
    if (url === "/events" && req.method === "GET") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
      res.write(`event: reset\ndata: {}\n\n${history.map(event).join("")}`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    const file = page[url];
    if (!file || req.method !== "GET") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, { "Content-Type": file.type, "Content-Security-Policy": CSP, "Cache-Control": "no-store" }).end(file.body);
  }).catch((error: unknown) => {
    clearInterval(timer);
    throw error;
  });
  return {
    ...served,
    close: async () => {
      clearInterval(timer);
      for (const client of clients) client.end();
      await served.close();
    },
  };
}

const event = (sample: Sample): string => `data: ${JSON.stringify(sample)}\n\n`;
