import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type Koa from 'koa';

/**
 * What one client may hold of a server. Node's own defaults (60 s for headers, 300 s for a whole
 * request, no cap on connections) let a client that sends a byte a second keep a connection for
 * minutes; these are the defaults of every service, and a service exposed to the internet sets
 * tighter ones.
 */
export interface HttpServerLimits {
  /** Time to receive a request's headers, from its first byte (or from the connection). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included; never less than `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /** How long a kept-alive connection may sit idle between requests. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; a connection beyond it is closed as it arrives. */
  maxConnections: number;
}

export const defaultHttpServerLimits: Readonly<HttpServerLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  // Twice the heaviest legitimate load in the tests (four processes of 250 concurrent API calls
  // each against the emulator); a service facing the internet sets its own.
  maxConnections: 2_000,
};

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes idle sockets. */
  close(graceMs?: number): Promise<void>;
}

export async function startHttpServer(
  app: Koa,
  port: number,
  host = '127.0.0.1',
  limits: Partial<HttpServerLimits> = {},
): Promise<RunningServer> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = {
    ...defaultHttpServerLimits,
    ...limits,
  };
  if (!(headersTimeoutMs > 0 && requestTimeoutMs >= headersTimeoutMs)) {
    throw new RangeError('HTTP limits: headersTimeoutMs must be positive and at most requestTimeoutMs');
  }
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node enforces both timeouts only when it sweeps its connections, every 30 s by default.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    app.callback(),
  );
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.maxConnections = maxConnections;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: boundPort,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
