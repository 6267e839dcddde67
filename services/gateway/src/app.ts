import Router from '@koa/router';
import { Topics, type WechatEvent } from '@wxp/contracts';
import type { OutgoingEvent } from '@wxp/kafka';
import {
  Counter,
  Histogram,
  HttpError,
  errorMapper,
  healthRoutes,
  type Logger,
  type Registry,
} from '@wxp/service-runtime';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { AccountDirectory } from './account-directory';
import { partitionKeyOf, toCanonicalEvent } from './canonical-event';
import { DuplicateSuppressor } from './duplicate-suppressor';
import { MalformedPushError } from './push-parser';
import { PushRejection, openPush, verifyQuery, type PushQuery, type ServedAccount } from './push-opener';

export interface GatewayDeps {
  accounts: AccountDirectory;
  publish(event: OutgoingEvent): Promise<void>;
  isBrokerConnected(): boolean;
  logger: Logger;
  metrics: Registry;
  maxBodyBytes: number;
  maxClockSkewSeconds: number;
  /** How long a push may wait for the broker before it is answered 503; keeps every answer under 5 s. */
  ackTimeoutMs: number;
  now?: () => number;
}

class AckTimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AckTimeoutError(`no acknowledgement within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function pushQueryOf(query: Record<string, string | string[] | undefined>): PushQuery {
  const one = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);
  return {
    signature: one(query.signature),
    timestamp: one(query.timestamp),
    nonce: one(query.nonce),
    msg_signature: one(query.msg_signature),
  };
}

/** Builds the push endpoint; it never listens itself, so tests drive `app.callback()` directly. */
export function createGatewayApp(deps: GatewayDeps): Koa {
  const now = deps.now ?? Date.now;
  const log = deps.logger;
  const pushes = new Counter({
    name: 'wxp_gateway_pushes_total',
    help: 'Requests to the push endpoint, by outcome',
    labelNames: ['outcome'] as const,
    registers: [deps.metrics],
  });
  const requestSeconds = new Histogram({
    name: 'wxp_gateway_request_seconds',
    help: 'Time to answer a request to the push endpoint (WeChat waits 5 s)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5],
    registers: [deps.metrics],
  });
  const ackSeconds = new Histogram({
    name: 'wxp_gateway_broker_ack_seconds',
    help: 'Time from a verified push to the broker acknowledging its event',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.metrics],
  });
  const duplicates = new DuplicateSuppressor();

  /** Every refusal is counted and logged once, with its reason, before it is answered. */
  const refuse = (appId: string, status: number, outcome: string, reason: string): never => {
    pushes.inc({ outcome });
    log.warn({ appId, outcome, status, reason }, 'push refused');
    throw new HttpError(status, outcome, reason);
  };

  const servedAccount = (appId: string): ServedAccount =>
    deps.accounts.get(appId) ?? refuse(appId, 404, 'unknown_app', `no account with appId ${appId}`);

  const router = new Router();

  router.get('/wechat/:appId', (ctx) => {
    const appId = ctx.params.appId ?? '';
    const { account } = servedAccount(appId);
    try {
      verifyQuery(account, pushQueryOf(ctx.query), now() / 1000, Number.MAX_SAFE_INTEGER);
    } catch (error) {
      if (error instanceof PushRejection) refuse(appId, error.status, error.outcome, error.message);
      throw error;
    }
    const echostr = ctx.query.echostr;
    if (typeof echostr !== 'string') refuse(appId, 400, 'bad_request', 'echostr is required');
    ctx.type = 'text/plain';
    ctx.body = echostr;
  });

  router.post(
    '/wechat/:appId',
    async (ctx, next) => {
      const stopTimer = requestSeconds.startTimer();
      try {
        await next();
      } catch (error) {
        // koa-body's own refusals carry a status; they are counted and logged like ours.
        const status = (error as { status?: number }).status;
        if (!(error instanceof HttpError) && status === 413) {
          refuse(ctx.params.appId ?? '', 413, 'too_large', `body over ${deps.maxBodyBytes} bytes`);
        }
        throw error;
      } finally {
        stopTimer();
      }
    },
    // Bodies are read as raw text whatever their Content-Type: the account's format decides how they
    // are parsed, and numbers must not pass through a JSON.parse that would round 64-bit ids.
    async (ctx, next) => {
      ctx.request.headers['content-type'] = 'text/plain; charset=utf-8';
      await next();
    },
    koaBody({ text: true, json: false, urlencoded: false, multipart: false, textLimit: deps.maxBodyBytes }),
    async (ctx) => {
      const appId = ctx.params.appId ?? '';
      const served = servedAccount(appId);
      const body = typeof ctx.request.body === 'string' ? ctx.request.body : '';
      let event: WechatEvent;
      try {
        const fields = openPush(served, pushQueryOf(ctx.query), body, now() / 1000, deps.maxClockSkewSeconds);
        event = toCanonicalEvent(appId, fields);
      } catch (error) {
        if (error instanceof PushRejection) return refuse(appId, error.status, error.outcome, error.message);
        if (error instanceof MalformedPushError) return refuse(appId, 400, 'malformed', error.message);
        throw error;
      }
      const originalId = served.account.originalId;
      if (originalId && event.data.accountId !== originalId) {
        refuse(appId, 400, 'wrong_account', `ToUserName "${event.data.accountId}" is not ${originalId}`);
      }

      const started = process.hrtime.bigint();
      try {
        // The timeout bounds this answer, not the publish: a retry that arrives while the first
        // attempt is still with the broker waits for that attempt instead of publishing again.
        const outcome = await withTimeout(
          duplicates.run(event.id, () =>
            deps.publish({ topic: Topics.events, key: partitionKeyOf(event), event }),
          ),
          deps.ackTimeoutMs,
        );
        pushes.inc({ outcome });
      } catch (error) {
        // Not acknowledged means not answered with success: WeChat retries and nothing is lost.
        pushes.inc({ outcome: 'broker_unavailable' });
        log.error({ err: error, appId, eventId: event.id }, 'event not acknowledged by the broker');
        throw new HttpError(503, 'broker_unavailable', 'the event could not be stored; retry');
      }
      ackSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      // "success" means received with no passive reply; it needs no encryption in any mode.
      ctx.type = 'text/plain';
      ctx.body = 'success';
    },
  );

  const app = new Koa();
  app.use(errorMapper(log));
  const health = healthRoutes(deps.metrics, {
    broker: async () => {
      if (!deps.isBrokerConnected()) throw new Error('producer is not connected');
    },
  });
  app.use(health.routes());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
