import { gatewayConfig, gatewayServerLimits } from '../src/config';
import { configProblems } from '../../../test/support/config-problems';

const privacyKey = 'a-privacy-key-of-some-length';
const required = { WECHAT_ACCOUNTS_FILE: 'accounts.json', PRIVACY_KEY: privacyKey };

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

  it('refuses push limits that are not whole and positive, and an ack timeout WeChat would not wait for', () => {
    expect(
      problemsOf({
        ...required,
        GATEWAY_MAX_BODY_BYTES: '-5',
        GATEWAY_MAX_CLOCK_SKEW_SECONDS: '-1',
        GATEWAY_ACK_TIMEOUT_MS: '0.5',
      }),
    ).toEqual([
      'GATEWAY_MAX_BODY_BYTES must be a whole number of at least 1',
      'GATEWAY_MAX_CLOCK_SKEW_SECONDS must be a whole number of at least 1',
      'GATEWAY_ACK_TIMEOUT_MS must be a whole number of at least 1',
    ]);
    expect(problemsOf({ ...required, GATEWAY_ACK_TIMEOUT_MS: '60000' })).toEqual([
      'GATEWAY_ACK_TIMEOUT_MS must be under 5000: WeChat gives up on an answer after 5 s',
    ]);
    expect(problemsOf({ ...required, GATEWAY_ACK_TIMEOUT_MS: '4999' })).toEqual([]);
  });

  it('needs a PRIVACY_KEY of at least 16 characters, and never shows it', () => {
    const { PRIVACY_KEY: _unused, ...withoutKey } = required;
    expect(problemsOf(withoutKey)).toEqual([expect.stringMatching(/^PRIVACY_KEY\b.*required/)]);
    const short = 'short-key-15chr';
    const problems = problemsOf({ ...required, PRIVACY_KEY: short });
    expect(problems).toEqual(['PRIVACY_KEY must be at least 16 characters']);
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf(required)).toEqual([]);
  });

  it.each(['0', '2.5', 'soon'])('refuses PRIVACY_KEY_CACHE_SECONDS=%s in one line', (value) => {
    const problems = problemsOf({ ...required, PRIVACY_KEY_CACHE_SECONDS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PRIVACY_KEY_CACHE_SECONDS\b/);
    expect(problems[0]).not.toContain(privacyKey);
  });

  it('keeps data keys 30 seconds unless told otherwise', () => {
    expect(gatewayConfig(required).PRIVACY_KEY_CACHE_SECONDS).toBe(30);
    expect(gatewayConfig({ ...required, PRIVACY_KEY_CACHE_SECONDS: '5' }).PRIVACY_KEY_CACHE_SECONDS).toBe(5);
  });
});
