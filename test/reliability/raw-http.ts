import { connect } from "node:net";

export interface RawAnswer {
  /** The status of the answer, or undefined when the server closed without answering. */
  status: number | undefined;
  head: string;
  body: string;
}

/**
 * Sends `GET <target> HTTP/1.1` byte for byte, with no client-side parsing or escaping of the
 * target, so a test can put anything on the request line that a real client could. Rejects when
 * no complete answer arrives within `timeoutMs`.
 */
export function rawGet(
  baseUrl: string,
  target: string | Buffer,
  options: { timeoutMs: number; headers?: Record<string, string> },
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const headerLines = Object.entries({ host: `${hostname}:${port}`, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const message = Buffer.concat([
    Buffer.from("GET ", "latin1"),
    typeof target === "string" ? Buffer.from(target, "utf8") : target,
    Buffer.from(` HTTP/1.1\r\n${headerLines}connection: close\r\n\r\n`, "latin1"),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(options.timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer within ${options.timeoutMs} ms for ${String(target)}`));
    });
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error) => {
      // The server may answer 400 and close before reading all of an invalid request.
      if (chunks.length === 0) reject(error);
    });
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = split === -1 ? text : text.slice(0, split);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      resolve({
        status: status === undefined ? undefined : Number(status),
        head,
        body: split === -1 ? "" : text.slice(split + 4),
      });
    });
    socket.write(message);
  });
}
