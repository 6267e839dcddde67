import { loadAccounts, type Account } from '@wxp/accounts';
import { loadConfig, secureUrl, str } from '@wxp/service-runtime';
import { WechatApiClient } from './wechat-api-client';
import type { Db } from 'mongodb';

/** The client and the accounts it may call for, as the environment names them. */
export interface WechatApiSetup {
  api: WechatApiClient;
  /** Always the accounts of the last load: reloadAccounts changes this map in place. */
  accounts: ReadonlyMap<string, Account>;
  /**
   * Reads the accounts file again, for an account added or a secret changed at run time; returns
   * the appIds. A file that does not load throws and leaves the accounts as they were.
   */
  reloadAccounts(): string[];
}

/**
 * WECHAT_API_BASE and WECHAT_ACCOUNTS_FILE, checked. The base has no default: every token request
 * carries an appSecret, and a deployment that forgot the variable must not send them to whatever
 * listens on a default port. The local stack names its emulator explicitly.
 */
export function wechatApiConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(
    {
      WECHAT_API_BASE: secureUrl({
        desc: 'https://api.weixin.qq.com in production; http:// only to a loopback host (the emulator)',
      }),
      WECHAT_ACCOUNTS_FILE: str({ desc: 'The accounts, with the secrets the API needs' }),
    },
    env,
  );
}

export type WechatApiConfig = ReturnType<typeof wechatApiConfig>;

/**
 * WECHAT_API_BASE and the accounts file, checked, with the access_token shared through `db`;
 * `config` when the variables were checked already, with the service's others, before connecting.
 */
export function wechatApiSetupFromEnv(
  db: Db,
  env: NodeJS.ProcessEnv = process.env,
  config: WechatApiConfig = wechatApiConfig(env),
): WechatApiSetup {
  const accounts = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
  const api = new WechatApiClient({
    baseUrl: config.WECHAT_API_BASE,
    secretOf: (appId) => accounts.get(appId)?.appSecret,
    tokenCollection: db.collection('wechat_access_tokens'),
  });
  const reloadAccounts = () => {
    const fresh = loadAccounts(config.WECHAT_ACCOUNTS_FILE);
    accounts.clear();
    for (const [appId, account] of fresh) accounts.set(appId, account);
    return [...accounts.keys()];
  };
  return { api, accounts, reloadAccounts };
}

/** The WeChat API client as every service builds it: WECHAT_API_BASE, the accounts file, the shared token. */
export function wechatApiFromEnv(db: Db, env: NodeJS.ProcessEnv = process.env): WechatApiClient {
  return wechatApiSetupFromEnv(db, env).api;
}
