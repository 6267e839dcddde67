import { connect } from 'node:net';
import Koa from 'koa';
import { rawExchange } from '../../../test/support/raw-http';
import { defaultHttpServerLimits, startHttpServer, type RunningServer } from '../src/http-server';

// A client that opens a connection and sends a byte now and then must not keep it for long: these
// tests talk to the server over raw sockets, as such a client would.

let server: RunningServer | undefined;

afterEach(async () => {
  await server?.close(100);
  server = undefined;
});

function readingApp(): Koa {
  const app = new Koa();
  // The cut-off reads are what these tests cause; koa need not print them.
  app.silent = true;
  app.use(async (ctx) => {
    for await (const _chunk of ctx.req) void _chunk;
    ctx.body = 'read';
  });
  return app;
}

function dribble(port: number, head: string, deadlineMs: number) {
  return rawExchange(port, head, { dribbleEveryMs: 100, deadlineMs });
}

describe('HTTP server limits', () => {
  it('every service gets timeouts and a connection cap far below Node defaults', async () => {
    server = await startHttpServer(readingApp(), 0);
    expect(server.server.headersTimeout).toBe(defaultHttpServerLimits.headersTimeoutMs);
    expect(server.server.requestTimeout).toBe(defaultHttpServerLimits.requestTimeoutMs);
    expect(server.server.maxConnections).toBe(defaultHttpServerLimits.maxConnections);
    expect(defaultHttpServerLimits.requestTimeoutMs).toBeLessThanOrEqual(30_000);
    expect(defaultHttpServerLimits.headersTimeoutMs).toBeLessThanOrEqual(10_000);
  });

  it('closes a connection whose body arrives a byte at a time', async () => {
    server = await startHttpServer(readingApp(), 0, '127.0.0.1', {
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
    });
    const result = await dribble(
      server.port,
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 60000\r\n\r\n',
      20_000,
    );
    expect(result.closed).toBe(true);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection whose headers arrive a byte at a time', async () => {
    server = await startHttpServer(readingApp(), 0, '127.0.0.1', {
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
    });
    const result = await dribble(server.port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 20_000);
    expect(result).toEqual({ closed: true, answer: expect.stringMatching(/^HTTP\/1\.1 408/) });
  });

  it('closes connections beyond its cap as they arrive', async () => {
    server = await startHttpServer(readingApp(), 0, '127.0.0.1', { maxConnections: 2 });
    const port = server.port;
    const held = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(held.map((s) => new Promise((r) => s.on('connect', r))));
    // Accepted connections are counted once the server has seen them.
    await new Promise<void>((resolve) => {
      const poll = () =>
        server!.server.getConnections((_e, count) => (count >= 2 ? resolve() : setTimeout(poll, 20)));
      poll();
    });
    const extra = await dribble(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 20_000);
    expect(extra).toEqual({ closed: true, answer: '' });
    for (const socket of held) socket.destroy();
  });

  it('refuses headers timeout longer than the request timeout', async () => {
    await expect(
      startHttpServer(readingApp(), 0, '127.0.0.1', { headersTimeoutMs: 2000, requestTimeoutMs: 1000 }),
    ).rejects.toThrow(RangeError);
  });
});
