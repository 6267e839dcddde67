import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// A port the kernel hands out with bind(0) lies in its ephemeral range, which it also uses for the
// local end of every outgoing connection: between the moment a port is chosen and the moment the
// process meant for it listens, some client socket of the same machine may take it, and the listener
// then fails with EADDRINUSE. Ports below that range are never given to outgoing connections.
const lowestPort = 10_000;
const handedOut = new Set<number>();

function ephemeralRangeStart(): number | undefined {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const port = Number(start);
    return Number.isInteger(port) && port > lowestPort + 1000 ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, outside the kernel's ephemeral range
 * where the machine says what that is, and not handed out before by this process.
 */
export async function freePort(): Promise<number> {
  const rangeStart = ephemeralRangeStart();
  if (rangeStart !== undefined) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = lowestPort + Math.floor(Math.random() * (rangeStart - lowestPort));
      if (handedOut.has(port) || !(await isPortFree(port))) continue;
      handedOut.add(port);
      return port;
    }
  }
  return kernelChosenPort();
}

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
