import { connect } from 'node:net';
import { createMetricsRegistry, startHttpServer, type RunningServer } from '@wxp/service-runtime';
import pino from 'pino';
import { AccountDirectory } from '../src/account-directory';
import { createGatewayApp } from '../src/app';
import { eventFields, signedPush, testAccount } from '../../../test/support/wechat-push';
import { testPseudonymOf } from '../../../test/support/privacy';

const account = testAccount({ encryptMode: 'plain' });
const ackTimeoutMs = 1500;
let server: RunningServer;

beforeAll(async () => {
  server = await startHttpServer(
    createGatewayApp({
      accounts: new AccountDirectory(new Map([[account.appId, account]])),
      // A broker that never acknowledges: every push runs into the deadline.
      publish: () => new Promise<void>(() => undefined),
      isBrokerConnected: () => true,
      pseudonymOf: testPseudonymOf,
      seal: async (event) => event,
      isStoreReachable: async () => undefined,
      logger: pino({ level: 'silent' }),
      metrics: createMetricsRegistry('gateway'),
      maxBodyBytes: 64 * 1024,
      maxClockSkewSeconds: 300,
      ackTimeoutMs,
    }),
    0,
  );
});

afterAll(() => server?.close(100));

/** Sends the request's headers, then its body `bodyAfterMs` later; resolves with the status line and when it came. */
function slowUpload(bodyAfterMs: number): Promise<{ statusLine: string; afterMs: number }> {
  const push = signedPush(account, eventFields(account, 'oSlowUpload', 'CLICK', { EventKey: 'k' }));
  const body = Buffer.from(push.body);
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let started = 0;
    let answer = '';
    socket.on('connect', () => {
      started = Date.now();
      socket.write(
        `POST /wechat/${account.appId}?${push.query} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Content-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      setTimeout(() => socket.write(body), bodyAfterMs);
    });
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      if (answer.includes('\r\n')) {
        resolve({ statusLine: answer.slice(0, answer.indexOf('\r\n')), afterMs: Date.now() - started });
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

describe("the gateway's answer deadline", () => {
  it("runs from the request's arrival, so a slow upload does not push the answer past WeChat's wait", async () => {
    const { statusLine, afterMs } = await slowUpload(1200);
    expect(statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    // Counted from the body instead, the answer would come about 2,700 ms after the headers.
    expect(afterMs).toBeGreaterThanOrEqual(ackTimeoutMs - 50);
    expect(afterMs).toBeLessThan(2300);
  });
});
