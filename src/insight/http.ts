import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { InaccelError } from "../errors";

/** The loopback address the insight servers listen on: nothing outside the host reaches them. */
export const HOST = "127.0.0.1";

/** A running loopback server. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1:`port` (0 picks a free port). Requests whose
 * Host header names another host are refused, so a web page elsewhere cannot
 * read the data through DNS rebinding.
 *
 * @throws InaccelError `CONFIG_INVALID` when the port is in use or not allowed.
 */
export function serveLocal(port: number, handler: http.RequestListener): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    const own = new Set([`${HOST}:${address(server).port}`, `localhost:${address(server).port}`]);
    if (!own.has(req.headers.host ?? "")) {
      res.writeHead(403, { "Content-Type": "text/plain" }).end("forbidden: unexpected Host header\n");
      return;
    }
    handler(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new InaccelError("CONFIG_INVALID", `cannot listen on ${HOST}:${port}: ${error.code ?? error.message}`)));
    server.listen(port, HOST, () => {
      resolve({
        url: `http://${HOST}:${address(server).port}`,
        server,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

const address = (server: http.Server): AddressInfo => server.address() as AddressInfo;

/**
 * The path of a request's target, without its query, as sent: never
 * parsed as a URL, which throws on some targets (`//[`) and reads others
 * (`//x`) as a host. Whatever is not one of a server's own paths is a 404.
 */
export function pathOf(url = "/"): string {
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}
