import { createServer, connect, type Server, type Socket } from 'node:net';

/** Commands that change documents: what a projection's batch sends after its reads. */
const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);
const OP_MSG = 2013;

/** The command an OP_MSG carries: the first key of its body section. */
function commandOf(message: Buffer): string | undefined {
  if (message.length < 27 || message.readInt32LE(12) !== OP_MSG || message[20] !== 0) return undefined;
  const start = 26; // header 16, flags 4, section kind 1, document size 4, element type 1
  const end = message.indexOf(0, start);
  return end > start ? message.toString('latin1', start, end) : undefined;
}

interface Link {
  client: Socket;
  store: Socket;
  pending: Buffer;
  /** Messages kept from the store once a write was held; the driver waits for its answer anyway. */
  held: Buffer[] | undefined;
}

/**
 * A TCP proxy in front of the test store that a service connects to instead. It passes everything
 * until armed; armed, it lets a given number of write commands through and then holds every further
 * write unanswered and unsent, so the service is caught in the middle of applying a batch. Held
 * writes never reach the store: when the service dies its connections close and they are dropped.
 * `cut()` closes every connection and refuses new ones, as a store that went away.
 */
export class StoreGate {
  private readonly links = new Set<Link>();
  private armed = false;
  private writesToPass = 0;
  private refusing = false;
  /** Write commands held since the gate was last armed. */
  heldWrites: string[] = [];
  /** Commands passed to the store since the gate was last armed, by name: what a failure reports. */
  passed = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstream: { host: string; port: number },
  ) {}

  static async start(storeUrl: string): Promise<StoreGate> {
    const parsed = new URL(storeUrl);
    const upstream = { host: parsed.hostname, port: Number(parsed.port || 27017) };
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('store gate has no port');
    const gate = new StoreGate(server, address.port, upstream);
    server.on('connection', (client) => gate.accept(client));
    return gate;
  }

  /** `url` (the test store's, with a database) with this gate in place of the store. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.host = `127.0.0.1:${this.port}`;
    parsed.searchParams.set('directConnection', 'true');
    return parsed.toString();
  }

  /** From now on, `writesToPass` more writes go through; every write after them is held. */
  arm(writesToPass: number): void {
    this.heldWrites = [];
    this.passed = new Map();
    this.writesToPass = writesToPass;
    this.armed = true;
  }

  /**
   * Stops holding, and closes every connection with what it held: call it once the process that
   * owned them is dead, so that no hold of it counts for the next one.
   */
  disarm(): void {
    this.armed = false;
    for (const link of this.links) this.drop(link);
  }

  /** Connections on which a write is held right now, unanswered. */
  get holding(): number {
    let count = 0;
    for (const link of this.links) if (link.held && !link.client.destroyed) count += 1;
    return count;
  }

  /** The store goes away: every connection is closed, new ones are refused until `restore()`. */
  cut(): void {
    this.refusing = true;
    for (const link of this.links) this.drop(link);
  }

  restore(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    for (const link of this.links) this.drop(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const store = connect(this.upstream.port, this.upstream.host);
    const link: Link = { client, store, pending: Buffer.alloc(0), held: undefined };
    this.links.add(link);
    store.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => this.fromClient(link, chunk));
    for (const socket of [client, store]) {
      socket.on('error', () => this.drop(link));
      socket.on('close', () => this.drop(link));
    }
  }

  private fromClient(link: Link, chunk: Buffer): void {
    link.pending = Buffer.concat([link.pending, chunk]);
    while (link.pending.length >= 4) {
      const length = link.pending.readInt32LE(0);
      if (link.pending.length < length) return;
      const message = link.pending.subarray(0, length);
      link.pending = link.pending.subarray(length);
      if (link.held) {
        link.held.push(message);
        continue;
      }
      const command = commandOf(message);
      if (this.armed && command !== undefined && WRITE_COMMANDS.has(command)) {
        if (this.writesToPass > 0) this.writesToPass -= 1;
        else {
          link.held = [message];
          this.heldWrites.push(command);
          continue;
        }
      }
      const name = command ?? 'other';
      this.passed.set(name, (this.passed.get(name) ?? 0) + 1);
      link.store.write(message);
    }
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.held = undefined;
    link.client.destroy();
    link.store.destroy();
  }
}
