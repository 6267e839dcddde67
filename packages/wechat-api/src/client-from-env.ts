import { loadAccounts, type Account } from '@wxp/accounts';
import { loadConfig, str, url } from '@wxp/service-runtime';
import { WechatApiClient } from './wechat-api-client';
import type { Db } from 'mongodb';

/** The client and the accounts it may call for, as the environment names them. */
export interface WechatApiSetup {
  api: WechatApiClient;
  accounts: ReadonlyMap<string, Account>;
}

/** WECHAT_API_BASE and the accounts file, checked, with the access_token shared through `db`. */
export function wechatApiSetupFromEnv(db: Db, env: NodeJS.ProcessEnv = process.env): WechatApiSetup {
  const config = loadConfig(
    {
      WECHAT_API_BASE: url({
        default: 'http://127.0.0.1:8089',
        desc: 'https://api.weixin.qq.com in production',
      }),
      WECHAT_ACCOUNTS_FILE: str({ desc: 'The accounts, with the secrets the API needs' }),
    },
    env,
  );
  const accounts = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
  const api = new WechatApiClient({
    baseUrl: config.WECHAT_API_BASE,
    secretOf: (appId) => accounts.get(appId)?.appSecret,
    tokenCollection: db.collection('wechat_access_tokens'),
  });
  return { api, accounts };
}

/** The WeChat API client as every service builds it: WECHAT_API_BASE, the accounts file, the shared token. */
export function wechatApiFromEnv(db: Db, env: NodeJS.ProcessEnv = process.env): WechatApiClient {
  return wechatApiSetupFromEnv(db, env).api;
}
