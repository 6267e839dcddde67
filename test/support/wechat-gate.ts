import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HeldSend {
  touser: string;
  content: string;
  /** 'before': WeChat never got the message. 'after': WeChat took it, its answer never came back. */
  mode: 'before' | 'after';
}

/**
 * An HTTP proxy between a service and the WeChat emulator. It forwards every call; armed, it lets a
 * given number of `message/custom/send` calls through and holds every further one, either before
 * WeChat sees it or after WeChat took it and before the answer comes back, so that a killed
 * service is caught in the middle of sending a reply.
 */
export class WechatGate {
  private armed = false;
  private sendsToPass = 0;
  private mode: HeldSend['mode'] = 'before';
  private readonly open = new Set<ServerResponse>();
  /** Sends held since the gate was last armed. */
  held: HeldSend[] = [];
  /** Every call that came through, in order: its path (without the query) and body. */
  readonly calls: { path: string; body: string }[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(target: string): Promise<WechatGate> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('WeChat gate has no port');
    const gate = new WechatGate(server, `http://127.0.0.1:${address.port}`);
    server.on('request', (request, response) => void gate.handle(target, request, response));
    return gate;
  }

  arm(sendsToPass: number, mode: HeldSend['mode']): void {
    this.held = [];
    this.sendsToPass = sendsToPass;
    this.mode = mode;
    this.armed = true;
  }

  /**
   * Stops holding, and closes the calls still held: call it once the process that made them is
   * dead, so that no hold of it counts for the next one.
   */
  disarm(): void {
    this.armed = false;
    for (const response of this.open) response.socket?.destroy();
    this.open.clear();
  }

  /** Sends held right now whose caller is still waiting. */
  get holding(): number {
    let count = 0;
    for (const response of this.open) if (!response.socket?.destroyed) count += 1;
    return count;
  }

  async close(): Promise<void> {
    for (const response of this.open) response.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(target: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    this.calls.push({ path: (request.url ?? '').split('?')[0] ?? '', body: body.toString('utf8') });
    const isSend = (request.url ?? '').startsWith('/cgi-bin/message/custom/send');
    let hold: HeldSend['mode'] | undefined;
    if (isSend && this.armed) {
      if (this.sendsToPass > 0) this.sendsToPass -= 1;
      else hold = this.mode;
    }
    // Counted as held only once WeChat has the message ('after') or never will ('before').
    const keep = (mode: HeldSend['mode']) => {
      const sent = JSON.parse(body.toString('utf8')) as { touser: string; text?: { content?: string } };
      this.held.push({ touser: sent.touser, content: sent.text?.content ?? '', mode });
      this.open.add(response);
      response.on('close', () => this.open.delete(response));
    };
    if (hold === 'before') {
      keep(hold);
      return;
    }
    const answer = await fetch(`${target}${request.url ?? '/'}`, {
      method: request.method ?? 'GET',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body }),
    });
    const text = await answer.text();
    if (hold === 'after') {
      keep(hold);
      return;
    }
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    response.end(text);
  }
}
