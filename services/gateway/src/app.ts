import Router from '@koa/router';
import type { Account } from '@wxp/accounts';
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
import { partitionKeyOf, toCanonicalEvent } from './canonical-event';
import { DuplicateSuppressor } from './duplicate-suppressor';
import { MalformedPushError, parseXmlPush } from './push-parser';
import { signatureMatches, wechatSignature } from './signature';

export interface GatewayDeps {
  accounts: ReadonlyMap<string, Account>;
  publish(event: OutgoingEvent): Promise<void>;
  isBrokerConnected(): boolean;
  logger: Logger;
  metrics: Registry;
  maxBodyBytes: number;
  maxClockSkewSeconds: number;
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

function queryString(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Builds the push endpoint; it never listens itself, so tests drive `app.callback()` directly. */
export function createGatewayApp(deps: GatewayDeps): Koa {
  const now = deps.now ?? Date.now;
  const log = deps.logger;
  const pushes = new Counter({
    name: 'wxp_gateway_pushes_total',
    help: 'Pushes received, by outcome',
    labelNames: ['outcome'] as const,
    registers: [deps.metrics],
  });
  const ackSeconds = new Histogram({
    name: 'wxp_gateway_broker_ack_seconds',
    help: 'Time from a verified push to the broker acknowledging its event',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.metrics],
  });
  const duplicates = new DuplicateSuppressor();

  const reject = (outcome: string, status: number, code: string, message: string): never => {
    pushes.inc({ outcome });
    throw new HttpError(status, code, message);
  };

  const accountOf = (appId: string): Account => {
    const account = deps.accounts.get(appId);
    if (!account) return reject('unknown_app', 404, 'unknown_app', `no account with appId ${appId}`);
    return account;
  };

  const verifySignature = (account: Account, query: Record<string, string | string[] | undefined>) => {
    const timestamp = queryString(query.timestamp);
    const nonce = queryString(query.nonce);
    const signature = queryString(query.signature);
    if (!timestamp || !nonce || !signature) {
      return reject('bad_signature', 401, 'bad_signature', 'signature, timestamp and nonce are required');
    }
    if (!signatureMatches(wechatSignature(account.token, timestamp, nonce), signature)) {
      return reject('bad_signature', 401, 'bad_signature', 'signature does not match');
    }
    return { timestamp, nonce };
  };

  const router = new Router();

  router.get('/wechat/:appId', (ctx) => {
    const account = accountOf(ctx.params.appId ?? '');
    verifySignature(account, ctx.query);
    const echostr = queryString(ctx.query.echostr);
    if (echostr === undefined) return reject('bad_request', 400, 'bad_request', 'echostr is required');
    ctx.type = 'text/plain';
    ctx.body = echostr;
  });

  router.post(
    '/wechat/:appId',
    // Push bodies are read as raw text whatever their Content-Type: the parser below decides what
    // they are, and numbers must not pass through a JSON.parse that would round 64-bit ids.
    async (ctx, next) => {
      ctx.request.headers['content-type'] = 'text/plain; charset=utf-8';
      await next();
    },
    koaBody({ text: true, json: false, urlencoded: false, multipart: false, textLimit: deps.maxBodyBytes }),
    async (ctx) => {
      const appId = ctx.params.appId ?? '';
      const account = accountOf(appId);
      const { timestamp } = verifySignature(account, ctx.query);
      if (
        !/^[0-9]{1,12}$/.test(timestamp) ||
        Math.abs(now() / 1000 - Number(timestamp)) > deps.maxClockSkewSeconds
      ) {
        reject('stale', 401, 'stale_timestamp', 'timestamp is too far from now');
      }
      if (account.encryptMode !== 'plain' || account.format !== 'xml') {
        reject(
          'unsupported_mode',
          501,
          'unsupported_mode',
          `account ${appId} uses ${account.encryptMode} mode with ${account.format} bodies; this gateway accepts plain XML`,
        );
      }
      const body = typeof ctx.request.body === 'string' ? ctx.request.body : '';
      let event: WechatEvent;
      try {
        event = toCanonicalEvent(appId, parseXmlPush(body));
      } catch (error) {
        if (error instanceof MalformedPushError) {
          log.warn({ appId, reason: error.message }, 'malformed push rejected');
          return reject('malformed', 400, 'malformed_push', error.message);
        }
        throw error;
      }
      if (account.originalId && event.data.accountId !== account.originalId) {
        reject('wrong_account', 400, 'wrong_account', `ToUserName is not ${account.originalId}`);
      }

      const started = process.hrtime.bigint();
      try {
        const outcome = await duplicates.run(event.id, () =>
          withTimeout(
            deps.publish({ topic: Topics.events, key: partitionKeyOf(event), event }),
            deps.ackTimeoutMs,
          ),
        );
        pushes.inc({ outcome });
      } catch (error) {
        // Not acknowledged means not answered with success: WeChat retries and nothing is lost.
        log.error({ err: error, appId, eventId: event.id }, 'event not acknowledged by the broker');
        reject('broker_unavailable', 503, 'broker_unavailable', 'the event could not be stored; retry');
      }
      ackSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      ctx.type = 'text/plain';
      ctx.body = 'success';
    },
  );

  const app = new Koa();
  app.use(errorMapper(log));
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      // koa-body's own refusals (too large, bad encoding) carry a status; count them like ours.
      const status = (error as { status?: number }).status;
      if (status === 413) pushes.inc({ outcome: 'too_large' });
      throw error;
    }
  });
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
