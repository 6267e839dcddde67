import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort, isPortFree } from '../src/free-port';

describe('freePort', () => {
  it('gives ports below the kernel ephemeral range, each once, that can be listened on', async () => {
    const [rangeStart] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const ports: number[] = [];
    for (let n = 0; n < 50; n++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(rangeStart!);
    }
    expect(await isPortFree(ports[0]!)).toBe(true);
  });

  it('never gives a port something already listens on', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    try {
      expect(await isPortFree(taken)).toBe(false);
      for (let n = 0; n < 20; n++) expect(await freePort()).not.toBe(taken);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
