import {
  WechatApiClient,
  WechatValidationError,
  wechatApiConfig,
  type AccessTokenDocument,
} from '@wxp/wechat-api';
import type { Collection } from 'mongodb';
import { configProblems } from '../../../test/support/config-problems';

const accountsFile = { WECHAT_ACCOUNTS_FILE: '/run/config/accounts.json' };

const problemsOf = (env: NodeJS.ProcessEnv): string[] => configProblems(() => wechatApiConfig(env));

describe('where the WeChat API client sends appSecrets', () => {
  it('has no default: a deployment that forgets WECHAT_API_BASE does not start', () => {
    expect(problemsOf(accountsFile)).toEqual(['WECHAT_API_BASE is required']);
  });

  it.each([
    'http://api.weixin.qq.com',
    'http://10.0.0.7:8089',
    'http://wechat-emulator:8089',
    'ftp://127.0.0.1/',
    'not a url',
  ])('refuses %s: only https://, or http:// to this machine', (base) => {
    const problems = problemsOf({ ...accountsFile, WECHAT_API_BASE: base });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^WECHAT_API_BASE must be an https:\/\/ URL/);
  });

  it('says so on one line without the credentials a refused URL carries', () => {
    const [line] = problemsOf({ ...accountsFile, WECHAT_API_BASE: 'http://ops:Pa55word@10.0.0.7:8089' });
    expect(line).not.toContain('Pa55word');
    expect(line).toContain('10.0.0.7:8089');
  });

  it.each([
    'https://api.weixin.qq.com',
    'http://127.0.0.1:8089',
    'http://127.8.9.10:1',
    'http://localhost:8089',
    'http://[::1]:8089',
  ])('accepts %s', (base) => {
    expect(wechatApiConfig({ ...accountsFile, WECHAT_API_BASE: base }).WECHAT_API_BASE).toBe(base);
  });

  it('is refused by the client itself too, however it is built', () => {
    const tokenCollection = {
      collectionName: 'tokens',
      db: { collection: () => ({}) },
    } as unknown as Collection<AccessTokenDocument>;
    const build = (baseUrl: string) => new WechatApiClient({ baseUrl, secretOf: () => 's', tokenCollection });
    expect(() => build('http://203.0.113.9')).toThrow(WechatValidationError);
    expect(() => build('https://api.weixin.qq.com')).not.toThrow();
  });
});
