import { createHash, randomBytes } from 'node:crypto';
import type { Account } from '@wxp/accounts';
import type { Menu } from '@wxp/wechat-api';
import { TagTable } from './tag-table';

export interface EmulatedUser {
  openId: string;
  unionId?: string;
  name: string;
  subscribe: 0 | 1;
  language: string;
  subscribeTime: number;
  subscribeScene: string;
  qrScene: number;
  qrSceneStr: string;
  tags: number[];
  remark: string;
  /** Seconds; customer-service messages are allowed within 48 hours of it. */
  lastInteraction: number;
}

export interface QrTicket {
  ticket: string;
  url: string;
  actionName: string;
  sceneId?: number;
  sceneStr?: string;
  /** Seconds since the epoch, absent for permanent codes. */
  expiresAt?: number;
}

export interface SentMessage {
  touser: string;
  msgtype: string;
  message: Record<string, unknown>;
  at: number;
}

export interface Fault {
  api: string;
  /** The error answered; with `afterDoing` and no errcode, the call's own answer (late, if stalled). */
  errcode?: number;
  remaining: number;
  /**
   * The call is carried out first and only its answer is faulty, as when WeChat sent a message and
   * its answer was lost or said busy: what a client must not take for "nothing happened".
   */
  afterDoing?: boolean;
  /** Milliseconds the answer is held back (with `afterDoing`): longer than a client's timeout, it never arrives. */
  stallMs?: number;
}

export interface IssuedToken {
  token: string;
  expiresAt: number;
  /** Set when a newer token replaced this one: from then on it answers 40001, not 42001. */
  retiresAt?: number;
}

/** Everything WeChat keeps about one account, as far as the platform can observe it. */
export class EmulatedApp {
  tokens: IssuedToken[] = [];
  stableToken: IssuedToken | undefined;
  tokenRequests = 0;
  menu: Menu | undefined;
  readonly tickets = new Map<string, QrTicket>();
  readonly users = new Map<string, EmulatedUser>();
  readonly messages: SentMessage[] = [];
  readonly tags = new TagTable();
  /** Calls per API with a valid token, faulted ones included: what a test counts to see retries. */
  readonly calls = new Map<string, number>();
  faults: Fault[] = [];

  /** Replaced when the accounts file is reloaded: a changed secret applies at once. */
  constructor(public account: Account) {}

  /** openIds are per account and stable per person, as WeChat's are. */
  openIdOf(name: string): string {
    return `o${createHash('sha256').update(`${this.account.appId}:${name}`).digest('base64url').slice(0, 27)}`;
  }

  userNamed(name: string): EmulatedUser {
    const openId = this.openIdOf(name);
    let user = this.users.get(openId);
    if (!user) {
      user = {
        openId,
        unionId: `u${createHash('sha256').update(`union:${name}`).digest('base64url').slice(0, 27)}`,
        name,
        subscribe: 0,
        language: 'zh_CN',
        subscribeTime: 0,
        subscribeScene: 'ADD_SCENE_OTHERS',
        qrScene: 0,
        qrSceneStr: '',
        tags: [],
        remark: '',
        lastInteraction: 0,
      };
      this.users.set(openId, user);
    }
    return user;
  }

  /** Takes one fault queued for this API (or for every API), if any. */
  takeFault(api: string): Fault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && (f.api === api || f.api === '*'));
    if (fault) fault.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return fault;
  }
}

export function newToken(): string {
  return randomBytes(48).toString('base64url');
}

export function newTicket(): string {
  // Real tickets are base64 with + / and =, which is why the image URL must encode them.
  return randomBytes(60).toString('base64');
}
