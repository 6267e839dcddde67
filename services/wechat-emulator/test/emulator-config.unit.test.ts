import { emulatorConfig } from '../src/config';
import { configProblems } from '../../../test/support/config-problems';

const base = { WECHAT_ACCOUNTS_FILE: '/run/config/accounts.json' };

const problemsOf = (env: NodeJS.ProcessEnv): string[] => configProblems(() => emulatorConfig(env));

describe('the WeChat emulator refuses production settings', () => {
  it('does not start in a deployment marked production', () => {
    const problems = problemsOf({ ...base, WXP_DEPLOYMENT: 'production' });
    expect(problems).toEqual([expect.stringMatching(/^WXP_DEPLOYMENT is production/)]);
  });

  it.each([
    'https://api.weixin.qq.com',
    'https://sh.api.weixin.qq.com/',
    'https://api.wechat.com',
    'https://api.weixin.qq.com./',
  ])('does not start beside services that call WeChat itself (%s)', (api) => {
    const problems = problemsOf({ ...base, WECHAT_API_BASE: api });
    expect(problems).toEqual([expect.stringMatching(/^WECHAT_API_BASE is WeChat's real API/)]);
  });

  it('starts for the local stack and for staging', () => {
    expect(problemsOf({ ...base, WECHAT_API_BASE: 'http://127.0.0.1:8089' })).toEqual([]);
    expect(problemsOf({ ...base, WXP_DEPLOYMENT: 'staging' })).toEqual([]);
  });
});
