import { randomBytes } from 'node:crypto';
import { buildPush, type PushFieldValues } from '@wxp/wechat-push';
import type { EmulatedApp, EmulatedUser } from './emulated-wechat';
import { readAnswer, type AnswerReading } from './passive-reply-reader';

export type SimulatedAction =
  | { action: 'scan'; ticket: string }
  | { action: 'follow' }
  | { action: 'unfollow' }
  | { action: 'click'; key: string }
  | { action: 'view'; url: string }
  | { action: 'text'; content: string };

export interface DeliveryAttempt {
  attempt: number;
  status: number | 'timeout' | 'unreachable';
  body?: string;
  ms: number;
  /** What WeChat made of a 200 answer. */
  answer?: AnswerReading;
}

export interface SimulationResult {
  openId: string;
  fields: PushFieldValues;
  delivered: boolean;
  attempts: DeliveryAttempt[];
  /** The passive reply the user got, decrypted, if any. */
  reply?: Record<string, unknown>;
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

export interface PushDelivery {
  gatewayUrl: string;
  timeoutMs: number;
  retryDelayMs: number;
  now(): number;
}

function menuKeys(app: EmulatedApp): { keys: Set<string>; urls: Set<string> } {
  const keys = new Set<string>();
  const urls = new Set<string>();
  for (const top of app.menu?.button ?? []) {
    for (const button of [top, ...(top.sub_button ?? [])]) {
      if (button.key) keys.add(button.key);
      if (button.type === 'view' && button.url) urls.add(button.url);
    }
  }
  return { keys, urls };
}

/**
 * What a user does in WeChat, turned into the push WeChat would send, changing the emulator's own
 * state the same way (a follow through a code records the scene that user/info later reports).
 */
export function pushFieldsFor(
  app: EmulatedApp,
  user: EmulatedUser,
  action: SimulatedAction,
  now: number,
): PushFieldValues {
  const base = {
    ToUserName: app.account.originalId ?? `gh_${app.account.appId.slice(2, 14)}`,
    FromUserName: user.openId,
    CreateTime: now,
  };
  const follow = (scene: string, extra: PushFieldValues): PushFieldValues => {
    user.subscribe = 1;
    user.subscribeTime = now;
    user.subscribeScene = scene;
    return { ...base, MsgType: 'event', Event: 'subscribe', ...extra };
  };
  switch (action.action) {
    case 'scan': {
      const ticket = app.tickets.get(action.ticket);
      if (!ticket) throw new SimulationError('unknown ticket');
      if (ticket.expiresAt !== undefined && ticket.expiresAt <= now)
        throw new SimulationError('the QR code has expired');
      const scene = ticket.sceneId !== undefined ? String(ticket.sceneId) : (ticket.sceneStr ?? '');
      if (user.subscribe === 1)
        return { ...base, MsgType: 'event', Event: 'SCAN', EventKey: scene, Ticket: ticket.ticket };
      user.qrScene = ticket.sceneId ?? 0;
      user.qrSceneStr = ticket.sceneStr ?? '';
      return follow('ADD_SCENE_QR_CODE', { EventKey: `qrscene_${scene}`, Ticket: ticket.ticket });
    }
    case 'follow':
      if (user.subscribe === 1) throw new SimulationError('the user already follows');
      user.qrScene = 0;
      user.qrSceneStr = '';
      return follow('ADD_SCENE_SEARCH', {});
    case 'unfollow':
      if (user.subscribe === 0) throw new SimulationError('the user does not follow');
      user.subscribe = 0;
      return { ...base, MsgType: 'event', Event: 'unsubscribe' };
    case 'click':
      if (user.subscribe === 0) throw new SimulationError('only followers see the menu');
      if (!menuKeys(app).keys.has(action.key))
        throw new SimulationError(`the menu has no button with key "${action.key}"`);
      return { ...base, MsgType: 'event', Event: 'CLICK', EventKey: action.key };
    case 'view':
      if (user.subscribe === 0) throw new SimulationError('only followers see the menu');
      if (!menuKeys(app).urls.has(action.url))
        throw new SimulationError(`the menu has no link to "${action.url}"`);
      return {
        ...base,
        MsgType: 'event',
        Event: 'VIEW',
        EventKey: action.url,
        MenuId: 400000000 + (now % 1000000),
      };
    case 'text':
      if (user.subscribe === 0) throw new SimulationError('only followers can send messages');
      return {
        ...base,
        MsgType: 'text',
        Content: action.content,
        MsgId: BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()).toString(),
      };
  }
}

/** Whether the push was taken: answered 200 with `success` or a reply WeChat can read. */
export function wasDelivered(attempts: DeliveryAttempt[]): boolean {
  const answer = attempts[attempts.length - 1]?.answer;
  return answer !== undefined && answer.kind !== 'invalid';
}

/** The reply the user got from the last attempt, if it was one. */
export function replyOf(attempts: DeliveryAttempt[]): Record<string, unknown> | undefined {
  const answer = attempts[attempts.length - 1]?.answer;
  return answer?.kind === 'reply' ? answer.message : undefined;
}

/** Sends a push as WeChat does: waits up to 5 s for an answer, three tries in all. */
export async function deliverPush(
  app: EmulatedApp,
  fields: PushFieldValues,
  delivery: PushDelivery,
): Promise<DeliveryAttempt[]> {
  const { query, body, contentType } = buildPush(app.account, fields);
  const url = `${delivery.gatewayUrl.replace(/\/$/, '')}/wechat/${app.account.appId}?${query}`;
  const attempts: DeliveryAttempt[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const started = delivery.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(delivery.timeoutMs),
      });
      const text = await response.text();
      const ms = delivery.now() - started;
      if (response.status !== 200) {
        attempts.push({ attempt, status: response.status, body: text, ms });
      } else {
        const answer = readAnswer(app.account, String(fields.FromUserName ?? ''), text);
        attempts.push({ attempt, status: response.status, body: text, ms, answer });
        // WeChat retries nothing that came back 200: a reply it cannot read only shows the user an error.
        return attempts;
      }
    } catch (error) {
      const status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable';
      attempts.push({ attempt, status, ms: delivery.now() - started });
    }
    if (attempt < 3 && delivery.retryDelayMs > 0)
      await new Promise((r) => setTimeout(r, delivery.retryDelayMs));
  }
  return attempts;
}
