import {
  type AddressInfo,
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";

/**
 * A TCP proxy on 127.0.0.1 that a test can cut and restore, to make a real server behind it
 * unreachable the way a network partition or a crashed database host does: existing connections
 * are reset and new ones are refused until restore().
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private trigger: { marker: string; fired: () => void } | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** Whether connections currently go through. */
  get connected(): boolean {
    return !this.cutOff;
  }

  /** Connections open through the proxy right now, each side counted once. */
  get openConnections(): number {
    return this.sockets.size / 2;
  }

  /** Resets every open connection and refuses new ones until restore(). */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  /**
   * Cuts the moment a client sends bytes containing `marker`, before they reach the server: a
   * way to break a connection at an exact point of a conversation, such as inside a transaction.
   */
  cutWhenSent(marker: string): Promise<void> {
    return new Promise((fired) => {
      this.trigger = { marker, fired };
    });
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.cutOff) {
      // A reset rather than a clean close: what a client meets when nothing listens.
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    this.track(client);
    this.track(upstream);
    client.on("data", (chunk: Buffer) => {
      const trigger = this.trigger;
      if (trigger && chunk.includes(trigger.marker)) {
        this.trigger = undefined;
        this.cut();
        trigger.fired();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }
}
