import { isSecureBase } from '@wxp/service-runtime';
import type { Collection } from 'mongodb';
import {
  ErrorCodes,
  WechatApiError,
  WechatValidationError,
  isSafeToRepeat,
  isTokenError,
  isTransient,
  mayHaveBeenCarriedOut,
} from './api-errors';
import { callWechat, type ApiRequest } from './api-transport';
import { qrCreateBody, showQrCodeUrl, type QrCode, type QrCodeSpec } from './qr-codes';
import { validateMenu, type Menu } from './menu';
import { batchTaggingBody, checkTagName, type UserTag } from './user-tags';
import { defaultRetryPolicy, retryWithBackoff, type RetryPolicy } from './retry';
import {
  SharedAccessTokens,
  type AccessTokenDocument,
  type FetchedToken,
  type SharedAccessTokensOptions,
} from './shared-access-tokens';
import { TokenSealer } from './token-sealing';

export interface UserInfo {
  subscribe: 0 | 1;
  openid: string;
  language?: string;
  subscribe_time?: number;
  unionid?: string;
  remark?: string;
  groupid?: number;
  tagid_list?: number[];
  subscribe_scene?: string;
  qr_scene?: number;
  qr_scene_str?: string;
}

export interface FollowersPage {
  total: number;
  count: number;
  data?: { openid: string[] };
  next_openid: string;
}

/** The body of a customer-service message without `touser`, e.g. `{ msgtype: 'text', text: { content } }`. */
export type CustomMessage = { msgtype: string } & Record<string, unknown>;

/**
 * The body of `message/custom/send`. The recipient is set last, so a message that carries a `touser`
 * of its own (a stored rule, say) can never send to someone else; the body type is looked up as the
 * message's own field, never one every object inherits.
 */
export function customMessageBody(openId: string, message: CustomMessage): Record<string, unknown> {
  const type = message?.msgtype;
  if (typeof type !== 'string' || !Object.hasOwn(message, type) || type === 'touser' || type === 'msgtype') {
    throw new WechatValidationError([`message must have msgtype and a "${String(type).slice(0, 40)}" body`]);
  }
  return { ...message, touser: openId };
}

export interface WechatApiOptions {
  /** https://api.weixin.qq.com in production; the emulator locally. */
  baseUrl: string;
  /** The secret of each account this process may call for. */
  secretOf(appId: string): string | undefined;
  tokenCollection: Collection<AccessTokenDocument>;
  /** `stable_token` (the default) or the classic `token` endpoint. */
  tokenMethod?: 'stable_token' | 'token';
  timeoutMs?: number;
  retry?: RetryPolicy;
  tokens?: SharedAccessTokensOptions;
  /** Where QR images are shown; WeChat serves them from mp.weixin.qq.com. */
  showQrCodeBase?: string;
}

/** WeChat's API with one shared access_token per account, retries for transient errors and typed errors. */
export class WechatApiClient {
  readonly tokens: SharedAccessTokens;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: WechatApiOptions) {
    // Token requests carry the appSecret: never in clear over a network.
    if (!isSecureBase(options.baseUrl)) {
      throw new WechatValidationError([
        'baseUrl must be an https:// URL (http:// only to a loopback host such as 127.0.0.1)',
      ]);
    }
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retry = options.retry ?? defaultRetryPolicy;
    // A refresh's lease outlives its fetch: retries until the deadline, and the last attempt's timeout.
    const longestFetchMs = this.retry.deadlineMs + this.timeoutMs;
    this.tokens = new SharedAccessTokens(
      options.tokenCollection,
      (appId, force) => this.fetchAccessToken(appId, force),
      new TokenSealer((appId) => options.secretOf(appId)),
      { leaseMs: longestFetchMs + 5_000, waitMs: longestFetchMs + 10_000, ...options.tokens },
    );
  }

  /** Asks WeChat for a token directly; normal callers let the shared store do this. */
  async fetchAccessToken(appId: string, forceRefresh = false): Promise<FetchedToken> {
    const secret = this.options.secretOf(appId);
    if (!secret) throw new WechatValidationError([`no secret configured for appId ${appId}`]);
    const request: ApiRequest =
      (this.options.tokenMethod ?? 'stable_token') === 'stable_token'
        ? {
            api: 'stable_token',
            method: 'POST',
            body: { grant_type: 'client_credential', appid: appId, secret, force_refresh: forceRefresh },
          }
        : { api: 'token', method: 'GET', query: { grant_type: 'client_credential', appid: appId, secret } };
    const answer = await retryWithBackoff(
      () =>
        callWechat<{ access_token: string; expires_in: number }>(
          this.options.baseUrl,
          request,
          this.timeoutMs,
        ),
      isTransient,
      this.retry,
    );
    return { token: answer.access_token, expiresInSeconds: answer.expires_in };
  }

  async createQrCode(appId: string, spec: QrCodeSpec): Promise<QrCode> {
    const body = qrCreateBody(spec);
    const answer = await this.call<{ ticket: string; url: string; expire_seconds?: number }>(appId, {
      api: 'qrcode/create',
      method: 'POST',
      body,
      // A code made twice spends quota, and a permanent one one of the account's 100,000 for good.
      repeatable: false,
    });
    return {
      ticket: answer.ticket,
      url: answer.url,
      ...(answer.expire_seconds === undefined ? {} : { expireSeconds: answer.expire_seconds }),
      imageUrl: showQrCodeUrl(answer.ticket, this.options.showQrCodeBase),
    };
  }

  getUserInfo(appId: string, openId: string, lang = 'zh_CN'): Promise<UserInfo> {
    return this.call(appId, { api: 'user/info', method: 'GET', query: { openid: openId, lang } });
  }

  async batchGetUserInfo(appId: string, openIds: string[], lang = 'zh_CN'): Promise<UserInfo[]> {
    if (openIds.length < 1 || openIds.length > 100) {
      throw new WechatValidationError([`user_list must hold 1 to 100 openIds, got ${openIds.length}`]);
    }
    const answer = await this.call<{ user_info_list: UserInfo[] }>(appId, {
      api: 'user/info/batchget',
      method: 'POST',
      body: { user_list: openIds.map((openid) => ({ openid, lang })) },
    });
    return answer.user_info_list;
  }

  getFollowers(appId: string, nextOpenId?: string): Promise<FollowersPage> {
    return this.call(appId, { api: 'user/get', method: 'GET', query: { next_openid: nextOpenId } });
  }

  async createMenu(appId: string, menu: unknown): Promise<void> {
    await this.call(appId, { api: 'menu/create', method: 'POST', body: validateMenu(menu) });
  }

  getMenu(appId: string): Promise<{ menu: Menu }> {
    return this.call(appId, { api: 'menu/get', method: 'GET' });
  }

  async deleteMenu(appId: string): Promise<void> {
    await this.call(appId, { api: 'menu/delete', method: 'GET' });
  }

  async sendCustomMessage(appId: string, openId: string, message: CustomMessage): Promise<void> {
    await this.call(appId, {
      api: 'message/custom/send',
      method: 'POST',
      body: customMessageBody(openId, message),
      repeatable: false,
    });
  }

  async getTags(appId: string): Promise<UserTag[]> {
    const answer = await this.call<{ tags?: UserTag[] }>(appId, { api: 'tags/get', method: 'GET' });
    return Array.isArray(answer.tags) ? answer.tags : [];
  }

  async createTag(appId: string, name: string): Promise<UserTag> {
    const answer = await this.call<{ tag: UserTag }>(appId, {
      api: 'tags/create',
      method: 'POST',
      body: { tag: { name: checkTagName(name) } },
      // A second create of the same name is refused (45157), so a repeat could hide the first's success.
      repeatable: false,
    });
    return answer.tag;
  }

  /**
   * The id of the tag with this name, made when the account has none. A create refused because the
   * name exists (made by another process, or by an earlier create whose answer was lost) and one that
   * may have happened are both settled by reading the tags again.
   */
  async findOrCreateTag(appId: string, name: string): Promise<UserTag> {
    checkTagName(name);
    const named = async () => (await this.getTags(appId)).find((tag) => tag.name === name);
    const existing = await named();
    if (existing) return existing;
    try {
      return await this.createTag(appId, name);
    } catch (error) {
      const taken = error instanceof WechatApiError && error.errcode === ErrorCodes.tagNameTaken;
      if (!taken && !mayHaveBeenCarriedOut(error)) throw error;
      const found = await named();
      if (found) return found;
      throw error;
    }
  }

  /** Gives 1 to 50 users a tag; tagging a user twice changes nothing, so it retries like a read. */
  async tagUsers(appId: string, tagId: number, openIds: readonly string[]): Promise<void> {
    await this.call(appId, {
      api: 'tags/members/batchtagging',
      method: 'POST',
      body: batchTaggingBody(tagId, openIds),
    });
  }

  /**
   * Calls with the shared token. A refused token (40001, 40014, 42001) is invalidated, a fresh one
   * fetched once and the call retried once; transient errors retry with backoff until the deadline,
   * except that a call which must not happen twice is not repeated once it may have reached WeChat.
   */
  private call<T>(appId: string, request: ApiRequest): Promise<T> {
    const withToken = (token: string) =>
      callWechat<T>(
        this.options.baseUrl,
        { ...request, query: { ...request.query, access_token: token } },
        this.timeoutMs,
      );
    return retryWithBackoff(
      async () => {
        const token = await this.tokens.get(appId);
        try {
          return await withToken(token);
        } catch (error) {
          if (!isTokenError(error)) throw error;
          await this.tokens.invalidate(appId, token);
          return withToken(await this.tokens.get(appId));
        }
      },
      request.repeatable === false ? isSafeToRepeat : isTransient,
      this.retry,
    );
  }
}
