import Router from '@koa/router';
import { HttpError } from '@wxp/service-runtime';
import type { EmulatedApp } from './emulated-wechat';
import {
  SimulationError,
  deliverPush,
  replyOf,
  wasDelivered,
  pushFieldsFor,
  type PushDelivery,
  type SimulatedAction,
} from './push-simulator';

export interface ControlDeps {
  apps: ReadonlyMap<string, EmulatedApp>;
  reset(): void;
  delivery: PushDelivery;
}

function appOf(apps: ReadonlyMap<string, EmulatedApp>, appId: unknown): EmulatedApp {
  const app = typeof appId === 'string' ? apps.get(appId) : undefined;
  if (!app) throw new HttpError(404, 'unknown_app', `no account with appId ${String(appId)}`);
  return app;
}

function describe(app: EmulatedApp) {
  return {
    appId: app.account.appId,
    encryptMode: app.account.encryptMode,
    tokenRequests: app.tokenRequests,
    tokensIssued: app.tokens.length + (app.stableToken ? 1 : 0),
    menu: app.menu ?? null,
    qrcodes: [...app.tickets.values()],
    users: [...app.users.values()],
    tags: app.tags.list(app.users.values()),
    calls: Object.fromEntries(app.calls),
    messages: app.messages,
    faults: app.faults,
  };
}

const actions = new Set(['scan', 'follow', 'unfollow', 'click', 'view', 'text']);
/** The field each action's push is made from, where it needs one. */
const actionFields: Record<string, string | undefined> = {
  scan: 'ticket',
  click: 'key',
  view: 'url',
  text: 'content',
};

/** Test and developer controls: inspect and reset state, queue faults, act as a WeChat user. */
export function controlRoutes(deps: ControlDeps): Router {
  const router = new Router({ prefix: '/emulator' });

  router.get('/state', (ctx) => {
    const appId = ctx.query.appId;
    ctx.body = appId ? describe(appOf(deps.apps, appId)) : { apps: [...deps.apps.values()].map(describe) };
  });

  router.post('/reset', (ctx) => {
    deps.reset();
    ctx.body = { reset: true };
  });

  router.post('/faults', (ctx) => {
    const body = (ctx.request.body ?? {}) as {
      appId?: string;
      api?: string;
      errcode?: number;
      times?: number;
      afterDoing?: boolean;
      stallMs?: number;
    };
    const app = appOf(deps.apps, body.appId);
    const afterDoing = body.afterDoing === true;
    if (body.afterDoing !== undefined && typeof body.afterDoing !== 'boolean')
      throw new HttpError(400, 'bad_request', 'afterDoing must be true or false');
    if (
      body.stallMs !== undefined &&
      !(Number.isInteger(body.stallMs) && body.stallMs > 0 && body.stallMs <= 60_000)
    )
      throw new HttpError(400, 'bad_request', 'stallMs must be a whole number of milliseconds up to 60000');
    if (body.stallMs !== undefined && !afterDoing)
      throw new HttpError(
        400,
        'bad_request',
        'stallMs needs afterDoing: a call refused up front is answered at once',
      );
    if (body.errcode !== undefined ? typeof body.errcode !== 'number' : !(afterDoing && body.stallMs))
      throw new HttpError(400, 'bad_request', 'errcode must be a number (or give afterDoing with stallMs)');
    app.faults.push({
      api: body.api ?? '*',
      ...(body.errcode === undefined ? {} : { errcode: body.errcode }),
      remaining: body.times ?? 1,
      ...(afterDoing ? { afterDoing } : {}),
      ...(body.stallMs === undefined ? {} : { stallMs: body.stallMs }),
    });
    ctx.body = { faults: app.faults };
  });

  router.post('/users', (ctx) => {
    const body = (ctx.request.body ?? {}) as {
      appId?: string;
      users?: { name: string; unionId?: string | null; language?: string; tags?: number[] }[];
    };
    const app = appOf(deps.apps, body.appId);
    const now = Math.floor(deps.delivery.now() / 1000);
    const specs = body.users ?? [];
    if (!Array.isArray(specs)) throw new HttpError(400, 'bad_request', 'users must be a list');
    // Every user is checked before any is made: a refused request changes nothing.
    for (const spec of specs) {
      if (typeof spec?.name !== 'string' || spec.name === '')
        throw new HttpError(400, 'bad_request', 'each user needs a name');
      const tags: unknown = spec.tags;
      if (
        tags !== undefined &&
        (!Array.isArray(tags) || tags.length > 20 || !tags.every((id) => Number.isInteger(id)))
      )
        throw new HttpError(400, 'bad_request', 'tags must be a list of at most 20 tag ids');
    }
    const created = specs.map((spec) => {
      const user = app.userNamed(spec.name);
      Object.assign(user, {
        subscribe: 1,
        subscribeTime: now,
        lastInteraction: now,
        subscribeScene: 'ADD_SCENE_OTHERS',
      });
      if (spec.unionId === null) delete user.unionId;
      else if (spec.unionId) user.unionId = spec.unionId;
      if (spec.language) user.language = spec.language;
      if (spec.tags !== undefined) user.tags = [...spec.tags];
      return user;
    });
    ctx.status = 201;
    ctx.body = { users: created };
  });

  router.post('/simulate', async (ctx) => {
    const body = (ctx.request.body ?? {}) as SimulatedAction & { appId?: string; user?: string };
    const app = appOf(deps.apps, body.appId);
    if (typeof body.user !== 'string' || body.user === '')
      throw new HttpError(400, 'bad_request', 'user is required');
    if (!actions.has(body.action))
      throw new HttpError(400, 'bad_request', `action must be one of ${[...actions].join(', ')}`);
    // What goes into the push: a text of WeChat's size, as a user could send it.
    const needed = actionFields[body.action];
    if (needed) {
      const value: unknown = (body as unknown as Record<string, unknown>)[needed];
      if (typeof value !== 'string' || value === '' || value.length > 2048)
        throw new HttpError(400, 'bad_request', `${needed} must be a text of 1 to 2048 characters`);
    }
    const user = app.userNamed(body.user);
    const now = Math.floor(deps.delivery.now() / 1000);
    let fields;
    try {
      fields = pushFieldsFor(app, user, body, now);
    } catch (error) {
      if (error instanceof SimulationError) throw new HttpError(409, 'not_possible', error.message);
      throw error;
    }
    user.lastInteraction = now;
    const attempts = await deliverPush(app, fields, deps.delivery);
    const reply = replyOf(attempts);
    ctx.body = {
      openId: user.openId,
      fields,
      delivered: wasDelivered(attempts),
      attempts,
      ...(reply ? { reply } : {}),
    };
  });

  return router;
}
