import { gatewayConfig, gatewayServerLimits } from '../src/config';
import { configProblems } from '../../../test/support/config-problems';

const required = { WECHAT_ACCOUNTS_FILE: 'accounts.json' };

const problemsOf = (env: NodeJS.ProcessEnv): string[] => configProblems(() => gatewayConfig(env));

describe('gateway configuration', () => {
  it('answers slow clients well within the 5 s WeChat waits, unless told otherwise', () => {
    const limits = gatewayServerLimits(gatewayConfig(required));
    expect(limits.headersTimeoutMs).toBeLessThan(5000);
    expect(limits.requestTimeoutMs).toBeLessThan(5000);
    expect(limits.headersTimeoutMs).toBeLessThanOrEqual(limits.requestTimeoutMs);
    expect(limits.maxConnections).toBeGreaterThan(0);
    const tuned = gatewayServerLimits(
      gatewayConfig({ ...required, GATEWAY_HEADERS_TIMEOUT_MS: '500', GATEWAY_REQUEST_TIMEOUT_MS: '800' }),
    );
    expect(tuned).toMatchObject({ headersTimeoutMs: 500, requestTimeoutMs: 800 });
  });

  it('refuses limits the server could not apply, one line each', () => {
    expect(
      problemsOf({
        ...required,
        GATEWAY_HEADERS_TIMEOUT_MS: '4000',
        GATEWAY_REQUEST_TIMEOUT_MS: '3000',
        GATEWAY_MAX_CONNECTIONS: '0',
        GATEWAY_REPLAY_MEMORY_ENTRIES: '1.5',
      }),
    ).toEqual([
      'GATEWAY_MAX_CONNECTIONS must be a whole number of at least 1',
      'GATEWAY_REPLAY_MEMORY_ENTRIES must be a whole number of at least 1',
      'GATEWAY_HEADERS_TIMEOUT_MS must not be more than GATEWAY_REQUEST_TIMEOUT_MS',
    ]);
  });
});
