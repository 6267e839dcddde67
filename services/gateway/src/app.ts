import Router from '@koa/router';
import { repliesInAnswer } from '@wxp/accounts';
import { ReplySent, Topics, derivedEventId, type PushEvent, type WechatEvent } from '@wxp/contracts';
import { passiveReplyXml, replyFor, type ChosenReply } from '@wxp/reply-rules';
import { encryptedReplyXml } from '@wxp/wechat-push';
import type { OutgoingEvent } from '@wxp/kafka';
import {
  Counter,
  Gauge,
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
import { partitionKeyOf, toCanonicalEvent, type PseudonymOf } from './canonical-event';
import { DuplicateSuppressor } from './duplicate-suppressor';
import { MalformedPushError } from './push-parser';
import type { ReplyRulesSource } from './reply-rules-feed';
import {
  PushRejection,
  openPush,
  verifyQuery,
  type PushQuery,
  type ServedAccount,
  type VerifiedQuery,
} from './push-opener';
import { SignedQueryMemory, defaultReplayMemoryEntries } from './signed-query-memory';

export interface GatewayDeps {
  accounts: AccountDirectory;
  /** Publishes a push's events in one produce request; resolves when the broker acknowledged them. */
  publish(events: readonly OutgoingEvent[]): Promise<void>;
  isBrokerConnected(): boolean;
  /** The user's pseudonym: keyed by PRIVACY_KEY, so the log never holds an openId in clear. */
  pseudonymOf: PseudonymOf;
  /** Seals an event's personal fields with its user's data key (made on first sight). */
  seal(event: PushEvent): Promise<PushEvent>;
  /** The key store, for /healthz. */
  isStoreReachable(): Promise<void>;
  logger: Logger;
  metrics: Registry;
  maxBodyBytes: number;
  maxClockSkewSeconds: number;
  /** How long a push may wait for the broker before it is answered 503; keeps every answer under 5 s. */
  ackTimeoutMs: number;
  /** Signed plain-mode queries remembered against replay, at most (see SignedQueryMemory). */
  replayMemoryEntries?: number;
  /** The reply rules, for accounts that reply inside the answer; without it they reply nothing. */
  replyRules?: ReplyRulesSource;
  now?: () => number;
}

/** What WeChat sends: an uncompressed body. Anything else is refused before a byte of it is read. */
function isIdentityEncoding(header: string | undefined): boolean {
  const encoding = (header ?? '').trim().toLowerCase();
  return encoding === '' || encoding === 'identity';
}

/** The appId of a refused request as a log may show it: short, and only characters an appId has. */
function loggableAppId(appId: string): string {
  const shown = appId.slice(0, 32).replace(/[^A-Za-z0-9_-]/g, '?');
  return appId.length > 32 ? `${shown}…` : shown;
}

class AckTimeoutError extends Error {}

/** A reply inside the answer: the XML before any encryption, and the event recording it. */
interface PassiveReply {
  xml: string;
  record: WechatEventOfReply;
}

type WechatEventOfReply = Extract<WechatEvent, { type: 'wechat.reply.sent' }>;

/**
 * What a retry of a replied push is answered with, kept per event id for the duplicate window (up
 * to 100,000 pushes): the reply's text and kind only, since its record is never needed again.
 */
interface AnsweredReply {
  xml: string;
  messageType: string;
}

/** What a verification request's query is remembered with: no push body is this text. */
const VERIFICATION = '\u0000verification';

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
  const sealSeconds = new Histogram({
    name: 'wxp_gateway_seal_seconds',
    help: "Time to seal a push's event with its user's data key, storing a new key included",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [deps.metrics],
  });
  const sealed = async (event: PushEvent): Promise<PushEvent> => {
    const sealing = process.hrtime.bigint();
    const result = await deps.seal(event);
    sealSeconds.observe(Number(process.hrtime.bigint() - sealing) / 1e9);
    return result;
  };
  const untypedPushes = new Counter({
    name: 'wxp_gateway_untyped_pushes_total',
    help: 'Pushes published under a generic type (wechat.event.received or wechat.message.received), by the declared type their kind has when it has WeChat\'s documented shape, or "undeclared"',
    labelNames: ['expected'] as const,
    registers: [deps.metrics],
  });
  const countUntyped = (expected: string) => untypedPushes.inc({ expected });
  const decryptFailures = new Counter({
    name: 'wxp_gateway_decrypt_failures_total',
    help: 'Encrypted pushes refused as decrypt_failed: ciphertext (its shape) or plaintext (any check after decrypting)',
    labelNames: ['failure'] as const,
    registers: [deps.metrics],
  });
  const replies = new Counter({
    name: 'wxp_gateway_passive_replies_total',
    help: 'Pushes to accounts that reply inside the answer, by what they were answered with',
    labelNames: ['outcome'] as const,
    registers: [deps.metrics],
  });
  // Per event id, the passive reply its first attempt was answered with: WeChat's retries get it again,
  // and so does a copy sent while its timestamp is still accepted, up to twice the clock window later.
  const duplicates = new DuplicateSuppressor<AnsweredReply | undefined>(
    (2 * deps.maxClockSkewSeconds + 10) * 1000,
    undefined,
    now,
  );
  const signedQueries = new SignedQueryMemory(
    deps.maxClockSkewSeconds,
    deps.replayMemoryEntries ?? defaultReplayMemoryEntries,
  );
  new Gauge({
    name: 'wxp_gateway_signed_queries_remembered',
    help: 'Signed plain-mode queries remembered against replay',
    registers: [deps.metrics],
    collect() {
      this.set(signedQueries.size);
    },
  });

  /**
   * Every refusal is counted and logged once, with its reason, before it is answered. Reasons are
   * fixed texts; the only request text a log shows is an unknown appId, shortened and sanitised.
   */
  const refuse = (appId: string, status: number, outcome: string, reason: string): never => {
    pushes.inc({ outcome });
    const shownAppId = deps.accounts.get(appId) ? appId : loggableAppId(appId);
    log.warn({ appId: shownAppId, outcome, status, reason }, 'push refused');
    throw new HttpError(status, outcome, reason);
  };

  const refuseRejection = (appId: string, rejection: PushRejection): never => {
    if (rejection.decryptFailure) decryptFailures.inc({ failure: rejection.decryptFailure });
    return refuse(appId, rejection.status, rejection.outcome, rejection.message);
  };

  const servedAccount = (appId: string): ServedAccount =>
    deps.accounts.get(appId) ?? refuse(appId, 404, 'unknown_app', 'no such account');

  const verifiedQuery = (appId: string, served: ServedAccount, query: PushQuery): VerifiedQuery => {
    try {
      return verifyQuery(served.account, query, now() / 1000, deps.maxClockSkewSeconds);
    } catch (error) {
      if (error instanceof PushRejection) return refuseRejection(appId, error);
      throw error;
    }
  };

  /**
   * Plain mode signs the query only: it is remembered with what it came with, and refused when it
   * comes again with something else, or from before what the memory still reaches.
   */
  const rememberPlainQuery = (appId: string, query: VerifiedQuery, cameWith: string, replayed: string) => {
    const sighting = signedQueries.see(appId, Number(query.timestamp), query.nonce, cameWith, now() / 1000);
    if (sighting === 'replayed') refuse(appId, 401, 'replayed', replayed);
    if (sighting === 'forgotten')
      refuse(appId, 401, 'stale', 'timestamp is older than the replay memory still reaches');
  };

  const router = new Router();

  router.get('/wechat/:appId', (ctx) => {
    const appId = ctx.params.appId ?? '';
    const served = servedAccount(appId);
    const query = verifiedQuery(appId, served, pushQueryOf(ctx.query));
    const echostr = ctx.query.echostr;
    if (typeof echostr !== 'string') refuse(appId, 400, 'bad_request', 'echostr is required');
    // In plain mode a push is signed as this check is: its query, once seen here, must never carry a body.
    if (served.account.encryptMode === 'plain')
      rememberPlainQuery(appId, query, VERIFICATION, 'this signed query came with a push');
    ctx.type = 'text/plain';
    ctx.body = echostr;
  });

  router.post(
    '/wechat/:appId',
    async (ctx, next) => {
      ctx.state.arrivedAt = now();
      const stopTimer = requestSeconds.startTimer();
      try {
        await next();
      } catch (error) {
        // koa-body's own refusals carry a status; they are counted and logged like ours.
        const status = (error as { status?: number }).status;
        if (!(error instanceof HttpError) && status === 413) {
          refuse(ctx.params.appId ?? '', 413, 'too_large', `body over ${deps.maxBodyBytes} bytes`);
        }
        if (!(error instanceof HttpError) && status !== undefined && status >= 400 && status < 500) {
          refuse(
            ctx.params.appId ?? '',
            400,
            'incomplete_body',
            'the body was cut short or could not be read',
          );
        }
        throw error;
      } finally {
        stopTimer();
      }
    },
    // Who the push is for, its signature, its timestamp and its encoding are known from the request
    // line and headers: a request that fails them is answered before its body is read.
    async (ctx, next) => {
      const appId = ctx.params.appId ?? '';
      try {
        const served = servedAccount(appId);
        const query = verifiedQuery(appId, served, pushQueryOf(ctx.query));
        if (!isIdentityEncoding(ctx.get('content-encoding'))) {
          refuse(
            appId,
            415,
            'unsupported_encoding',
            'WeChat sends uncompressed bodies; no Content-Encoding is accepted',
          );
        }
        ctx.state.push = { appId, served, query };
      } catch (error) {
        // The body of a refused request is never read: the connection closes after the answer.
        ctx.set('Connection', 'close');
        throw error;
      }
      // Bodies are read as raw text whatever their Content-Type: the account's format decides how
      // they are parsed, and numbers must not pass through a JSON.parse that would round 64-bit ids.
      ctx.request.headers['content-type'] = 'text/plain; charset=utf-8';
      await next();
    },
    koaBody({ text: true, json: false, urlencoded: false, multipart: false, textLimit: deps.maxBodyBytes }),
    async (ctx) => {
      const { appId, served, query } = ctx.state.push as {
        appId: string;
        served: ServedAccount;
        query: VerifiedQuery;
      };
      const body = typeof ctx.request.body === 'string' ? ctx.request.body : '';
      let event: PushEvent;
      try {
        event = toCanonicalEvent(appId, openPush(served, query, body), deps.pseudonymOf, countUntyped);
      } catch (error) {
        if (error instanceof PushRejection) return refuseRejection(appId, error);
        if (error instanceof MalformedPushError) return refuse(appId, 400, 'malformed', error.message);
        throw error;
      }
      const originalId = served.account.originalId;
      if (originalId && event.data.accountId !== originalId) {
        refuse(appId, 400, 'wrong_account', "ToUserName is not this account's original id");
      }
      // Plain mode has nothing but the query's signature to bind a body to it: a query seen once
      // may come again only with the same body, which is WeChat retrying. In compat and safe mode
      // msg_signature covers the ciphertext.
      if (served.account.encryptMode === 'plain')
        rememberPlainQuery(appId, query, body, 'this signed query came with another body');

      const account = served.account;
      const inAnswer = repliesInAnswer(account);
      // What this gateway decided, on the event: the menu responder goes by it, not by its own
      // reading of an accounts file that may change between the two.
      event.replychannel = inAnswer ? 'passive' : 'custom';
      if (inAnswer && deps.replyRules && !deps.replyRules.isReady()) {
        // A fresh instance would answer with no rule what another answers with a reply.
        pushes.inc({ outcome: 'rules_not_ready' });
        throw new HttpError(503, 'rules_not_ready', 'the reply rules are still being read; retry');
      }

      const started = process.hrtime.bigint();
      let answer: { outcome: 'published' | 'duplicate'; value: AnsweredReply | undefined };
      try {
        // The timeout bounds this answer, not the publish: a retry that arrives while the first
        // attempt is still with the broker waits for that attempt instead of publishing again.
        answer = await withTimeout(
          duplicates.run(event.id, async () => {
            const reply = inAnswer ? passiveReplyTo(event, account.originalId) : undefined;
            const key = partitionKeyOf(event);
            const events: OutgoingEvent[] = [{ topic: Topics.events, key, event: await sealed(event) }];
            // The reply's record rides with the push: same request, same partition, right after it.
            if (reply) events.push({ topic: Topics.events, key, event: reply.record });
            await deps.publish(events);
            return reply && { xml: reply.xml, messageType: reply.record.data.messageType };
          }),
          // WeChat's 5 s run from the request's arrival, its body's upload included.
          Math.max(1, deps.ackTimeoutMs - (now() - (ctx.state.arrivedAt as number))),
        );
        pushes.inc({ outcome: answer.outcome });
      } catch (error) {
        // Not acknowledged means not answered with success: WeChat retries and nothing is lost.
        pushes.inc({ outcome: 'broker_unavailable' });
        log.error({ err: error, appId, eventId: event.id }, 'event not stored');
        throw new HttpError(503, 'broker_unavailable', 'the event could not be stored; retry');
      }
      ackSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      const reply = answer.value;
      if (inAnswer) replies.inc({ outcome: reply ? reply.messageType : 'none' });
      if (!reply) {
        // "success" means received with no passive reply; it needs no encryption in any mode.
        ctx.type = 'text/plain';
        ctx.body = 'success';
        return;
      }
      ctx.type = 'application/xml';
      ctx.body =
        account.encryptMode === 'plain'
          ? reply.xml
          : encryptedReplyXml(reply.xml, account, served.aesKey, query.timestamp, query.nonce);
    },
  );

  /** The passive reply a rule gives this push, with its record; none when no rule has a passive form. */
  function passiveReplyTo(event: PushEvent, originalId: string | undefined): PassiveReply | undefined {
    const chosen: ChosenReply | undefined = replyFor(
      deps.replyRules?.rulesOf(event.data.appId),
      event as WechatEvent,
    );
    if (!chosen) return undefined;
    const sentAt = Math.floor(now() / 1000);
    const xml = passiveReplyXml(chosen.message, {
      toUserName: event.data.openId,
      fromUserName: originalId ?? event.data.accountId,
      createTime: sentAt,
    });
    if (xml === undefined) {
      // Rules are checked against the account's channel when set; this one predates a change of it.
      replies.inc({ outcome: 'no_passive_form' });
      return undefined;
    }
    return {
      xml,
      record: {
        specversion: '1.0',
        id: derivedEventId(ReplySent.type, event.id),
        source: event.source,
        type: ReplySent.type,
        subject: event.subject!,
        time: new Date(sentAt * 1000).toISOString(),
        datacontenttype: 'application/json',
        dataschema: ReplySent.dataschema,
        causationid: event.id,
        data: {
          appId: event.data.appId,
          replyTo: event.id,
          channel: 'passive',
          rule: chosen.rule,
          messageType: chosen.message.msgtype,
          sentAt,
        },
      },
    };
  }

  const app = new Koa();
  // What reaches here is a connection that ended before its answer (a client gone, a request cut
  // off by the server's timeouts): one line without a stack, where koa would print one.
  app.on('error', (error: NodeJS.ErrnoException) => {
    log.info({ code: error.code ?? 'unknown' }, 'connection ended before its answer');
  });
  app.use(errorMapper(log));
  const health = healthRoutes(deps.metrics, {
    broker: async () => {
      if (!deps.isBrokerConnected()) throw new Error('producer is not connected');
    },
    keys: () => deps.isStoreReachable(),
    ...(deps.replyRules
      ? {
          replyRules: async () => {
            if (!deps.replyRules?.isReady()) throw new Error('still reading the reply rules');
            // Pushes are still answered with the rules last read; the instance must be replaced.
            if (deps.replyRules.isFollowing?.() === false)
              throw new Error('the reply rules feed stopped after an error it does not retry (see the log)');
          },
        }
      : {}),
  });
  app.use(health.routes());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
