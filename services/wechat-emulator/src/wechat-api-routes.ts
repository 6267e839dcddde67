import Router from '@koa/router';
import {
  renderQrCode,
  validateMenu,
  WechatValidationError,
  type Menu,
  type MenuButton,
} from '@wxp/wechat-api';
import type { Context } from 'koa';
import { newTicket, newToken, type EmulatedApp, type EmulatedUser, type Fault } from './emulated-wechat';
import { TagRefusal } from './tag-table';

export interface ApiBehaviour {
  apps: ReadonlyMap<string, EmulatedApp>;
  tokenTtlSeconds: number;
  tokenOverlapSeconds: number;
  now(): number;
}

class WechatError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(errmsg);
  }
}

const rid = () => `rid: ${Date.now().toString(16)}-${Math.random().toString(16).slice(2, 10)}`;

function answer(ctx: Context, body: object): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = body;
}

/** WeChat answers every error with HTTP 200 and errcode/errmsg. */
async function wechatErrors(ctx: Context, next: () => Promise<unknown>): Promise<void> {
  try {
    await next();
  } catch (error) {
    if (!(error instanceof WechatError) && !(error instanceof TagRefusal)) throw error;
    answer(ctx, { errcode: error.errcode, errmsg: `${error.errmsg} ${rid()}` });
  }
}

/** A fault taken with `afterDoing`: the route has done its work; now its answer is held back or replaced. */
async function faultsAfterDoing(ctx: Context, next: () => Promise<unknown>): Promise<void> {
  await next();
  const fault = (ctx.state as { faultAfterDoing?: Fault }).faultAfterDoing;
  if (!fault) return;
  if (fault.stallMs) await new Promise((resolve) => setTimeout(resolve, fault.stallMs));
  if (fault.errcode !== undefined) throw new WechatError(fault.errcode, 'emulated fault after doing');
}

function userInfo(user: EmulatedUser): Record<string, unknown> {
  if (user.subscribe === 0) return { subscribe: 0, openid: user.openId, tagid_list: [] };
  return {
    subscribe: 1,
    openid: user.openId,
    language: user.language,
    subscribe_time: user.subscribeTime,
    ...(user.unionId ? { unionid: user.unionId } : {}),
    remark: user.remark,
    groupid: 0,
    tagid_list: user.tags,
    subscribe_scene: user.subscribeScene,
    qr_scene: user.qrScene,
    qr_scene_str: user.qrSceneStr,
  };
}

function withSubButtons(menu: Menu): Menu {
  const fill = (b: MenuButton): MenuButton => ({ ...b, sub_button: (b.sub_button ?? []).map(fill) });
  return { button: menu.button.map(fill) };
}

/** The parts of api.weixin.qq.com the platform uses, behaving as WeChat does. */
export function wechatApiRoutes(behaviour: ApiBehaviour): Router {
  const { apps } = behaviour;
  const nowSeconds = () => Math.floor(behaviour.now() / 1000);
  const router = new Router({ prefix: '/cgi-bin' });
  router.use(wechatErrors);
  router.use(faultsAfterDoing);

  const credentialed = (appId: unknown, secret: unknown): EmulatedApp => {
    const app = typeof appId === 'string' ? apps.get(appId) : undefined;
    if (!app) throw new WechatError(40013, 'invalid appid');
    if (secret !== app.account.appSecret) throw new WechatError(40125, 'invalid appsecret');
    app.tokenRequests += 1;
    const fault = app.takeFault('token');
    if (fault) throw new WechatError(fault.errcode ?? -1, 'emulated fault');
    return app;
  };

  router.get('/token', (ctx) => {
    if (ctx.query.grant_type !== 'client_credential') throw new WechatError(40002, 'invalid grant_type');
    const app = credentialed(ctx.query.appid, ctx.query.secret);
    const now = nowSeconds();
    // A new token replaces the old, which keeps working only for the overlap.
    for (const old of app.tokens) old.retiresAt ??= now + behaviour.tokenOverlapSeconds;
    const issued = { token: newToken(), expiresAt: now + behaviour.tokenTtlSeconds };
    app.tokens = [...app.tokens.filter((t) => t.expiresAt > now - 86400), issued];
    answer(ctx, { access_token: issued.token, expires_in: behaviour.tokenTtlSeconds });
  });

  router.post('/stable_token', (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== 'client_credential') throw new WechatError(40002, 'invalid grant_type');
    const app = credentialed(body.appid, body.secret);
    const now = nowSeconds();
    const current = app.stableToken;
    if (!current || current.expiresAt <= now || body.force_refresh === true) {
      if (current) app.tokens.push({ ...current, retiresAt: now + behaviour.tokenOverlapSeconds });
      app.stableToken = { token: newToken(), expiresAt: now + behaviour.tokenTtlSeconds };
    }
    const stable = app.stableToken as { token: string; expiresAt: number };
    answer(ctx, { access_token: stable.token, expires_in: stable.expiresAt - now });
  });

  /** Every other API: a valid, current access_token for some account, and its faults. */
  const authorised = (ctx: Context, api: string): EmulatedApp => {
    const token = ctx.query.access_token;
    if (typeof token !== 'string' || token === '') throw new WechatError(41001, 'access_token missing');
    const now = nowSeconds();
    for (const app of apps.values()) {
      const issued = [...app.tokens, ...(app.stableToken ? [app.stableToken] : [])].find(
        (t) => t.token === token,
      );
      if (!issued) continue;
      if (issued.retiresAt !== undefined && issued.retiresAt <= now) {
        throw new WechatError(40001, 'invalid credential, access_token is invalid or not latest');
      }
      if (issued.expiresAt <= now) throw new WechatError(42001, 'access_token expired');
      app.calls.set(api, (app.calls.get(api) ?? 0) + 1);
      const fault = app.takeFault(api);
      if (fault?.afterDoing) (ctx.state as { faultAfterDoing?: Fault }).faultAfterDoing = fault;
      else if (fault) throw new WechatError(fault.errcode ?? -1, 'emulated fault');
      return app;
    }
    throw new WechatError(40001, 'invalid credential, access_token is invalid or not latest');
  };

  router.post('/qrcode/create', (ctx) => {
    const app = authorised(ctx, 'qrcode/create');
    const body = (ctx.request.body ?? {}) as {
      expire_seconds?: unknown;
      action_name?: unknown;
      action_info?: { scene?: { scene_id?: unknown; scene_str?: unknown } };
    };
    const scene = body.action_info?.scene ?? {};
    const action = body.action_name;
    const permanent = action === 'QR_LIMIT_SCENE' || action === 'QR_LIMIT_STR_SCENE';
    const numeric = action === 'QR_SCENE' || action === 'QR_LIMIT_SCENE';
    if (!numeric && action !== 'QR_STR_SCENE' && action !== 'QR_LIMIT_STR_SCENE') {
      throw new WechatError(40097, 'invalid args: action_name');
    }
    const maxId = permanent ? 100000 : 4294967295;
    if (
      numeric &&
      !(
        Number.isInteger(scene.scene_id) &&
        (scene.scene_id as number) >= 1 &&
        (scene.scene_id as number) <= maxId
      )
    ) {
      throw new WechatError(40097, 'invalid args: scene_id');
    }
    if (
      !numeric &&
      !(typeof scene.scene_str === 'string' && scene.scene_str.length >= 1 && scene.scene_str.length <= 64)
    ) {
      throw new WechatError(40097, 'invalid args: scene_str');
    }
    if (permanent && [...app.tickets.values()].filter((t) => t.expiresAt === undefined).length >= 100000) {
      throw new WechatError(45029, 'qrcode count out of limit');
    }
    let expireSeconds: number | undefined;
    if (!permanent) {
      expireSeconds = body.expire_seconds === undefined ? 60 : Number(body.expire_seconds);
      if (!Number.isInteger(expireSeconds) || expireSeconds < 1)
        throw new WechatError(40097, 'invalid args: expire_seconds');
      expireSeconds = Math.min(expireSeconds, 2592000);
    }
    const ticket: ReturnType<EmulatedApp['tickets']['get']> & object = {
      ticket: newTicket(),
      url: `http://weixin.qq.com/q/${newToken().slice(0, 22)}`,
      actionName: String(action),
      ...(numeric ? { sceneId: scene.scene_id as number } : { sceneStr: scene.scene_str as string }),
      ...(expireSeconds === undefined ? {} : { expiresAt: nowSeconds() + expireSeconds }),
    };
    app.tickets.set(ticket.ticket, ticket);
    answer(ctx, {
      ticket: ticket.ticket,
      ...(expireSeconds === undefined ? {} : { expire_seconds: expireSeconds }),
      url: ticket.url,
    });
  });

  router.get('/showqrcode', async (ctx) => {
    const ticket = typeof ctx.query.ticket === 'string' ? ctx.query.ticket : '';
    const found = [...apps.values()].map((a) => a.tickets.get(ticket)).find((t) => t !== undefined);
    if (!found || (found.expiresAt !== undefined && found.expiresAt <= nowSeconds())) {
      ctx.status = 404;
      return;
    }
    ctx.type = 'image/png';
    ctx.body = await renderQrCode(found.url, 'png');
  });

  router.get('/user/info', (ctx) => {
    const app = authorised(ctx, 'user/info');
    const user = app.users.get(String(ctx.query.openid ?? ''));
    if (!user) throw new WechatError(40003, 'invalid openid');
    answer(ctx, userInfo(user));
  });

  router.post('/user/info/batchget', (ctx) => {
    const app = authorised(ctx, 'user/info/batchget');
    const list = ((ctx.request.body ?? {}) as { user_list?: { openid?: string }[] }).user_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 100) {
      throw new WechatError(40032, 'invalid openid list size');
    }
    const users = list.map((entry) => {
      const openId = (entry as { openid?: unknown } | null)?.openid;
      const user = typeof openId === 'string' ? app.users.get(openId) : undefined;
      if (!user) throw new WechatError(40003, 'invalid openid');
      return userInfo(user);
    });
    answer(ctx, { user_info_list: users });
  });

  router.get('/user/get', (ctx) => {
    const app = authorised(ctx, 'user/get');
    const followers = [...app.users.values()]
      .filter((u) => u.subscribe === 1)
      .map((u) => u.openId)
      .sort();
    const after = typeof ctx.query.next_openid === 'string' ? ctx.query.next_openid : '';
    const start = after ? followers.indexOf(after) + 1 : 0;
    const page = followers.slice(start, start + 10000);
    answer(ctx, {
      total: followers.length,
      count: page.length,
      ...(page.length > 0 ? { data: { openid: page } } : {}),
      next_openid: page.length > 0 ? (page[page.length - 1] as string) : '',
    });
  });

  router.get('/tags/get', (ctx) => {
    const app = authorised(ctx, 'tags/get');
    answer(ctx, { tags: app.tags.list(app.users.values()) });
  });

  router.post('/tags/create', (ctx) => {
    const app = authorised(ctx, 'tags/create');
    const body = (ctx.request.body ?? {}) as { tag?: { name?: unknown } };
    answer(ctx, { tag: app.tags.create(body.tag?.name) });
  });

  router.post('/tags/members/batchtagging', (ctx) => {
    const app = authorised(ctx, 'tags/members/batchtagging');
    const body = (ctx.request.body ?? {}) as { openid_list?: unknown; tagid?: unknown };
    app.tags.tagUsers(app.users, body.openid_list, body.tagid);
    answer(ctx, { errcode: 0, errmsg: 'ok' });
  });

  router.post('/menu/create', (ctx) => {
    const app = authorised(ctx, 'menu/create');
    try {
      app.menu = validateMenu(ctx.request.body);
    } catch (error) {
      if (error instanceof WechatValidationError)
        throw new WechatError(47001, `data format error: ${error.message}`);
      throw error;
    }
    answer(ctx, { errcode: 0, errmsg: 'ok' });
  });

  router.get('/menu/get', (ctx) => {
    const app = authorised(ctx, 'menu/get');
    if (!app.menu) throw new WechatError(46003, 'menu no exist');
    answer(ctx, { menu: withSubButtons(app.menu) });
  });

  router.get('/menu/delete', (ctx) => {
    const app = authorised(ctx, 'menu/delete');
    app.menu = undefined;
    answer(ctx, { errcode: 0, errmsg: 'ok' });
  });

  router.post('/message/custom/send', (ctx) => {
    const app = authorised(ctx, 'message/custom/send');
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const user = app.users.get(String(body.touser ?? ''));
    if (!user) throw new WechatError(40003, 'invalid openid');
    if (user.subscribe === 0) throw new WechatError(43004, 'require subscribe');
    if (nowSeconds() - user.lastInteraction > 48 * 3600)
      throw new WechatError(45015, 'response out of time limit');
    const msgtype = body.msgtype;
    if (typeof msgtype !== 'string' || typeof body[msgtype] !== 'object') {
      throw new WechatError(47001, 'data format error');
    }
    const { touser: _touser, ...message } = body;
    app.messages.push({ touser: user.openId, msgtype, message, at: nowSeconds() });
    answer(ctx, { errcode: 0, errmsg: 'ok' });
  });

  return router;
}
