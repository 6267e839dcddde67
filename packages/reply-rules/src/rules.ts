import type { AdminEvent, WechatEvent } from '@wxp/contracts';

/** A reply as the rules hold it: WeChat's customer-service body without `touser`. */
export type ReplyMessage = { msgtype: string } & Record<string, unknown>;

export interface KeywordRule {
  match: 'exact' | 'contains';
  keyword: string;
  reply: ReplyMessage;
}

/** The replies an account has configured, as the admin API last set them. */
export interface ReplyRules {
  /** Per menu key (CLICK). */
  menu: Record<string, ReplyMessage>;
  /** Per QR scene of a follow, and `default`. */
  welcome: Record<string, ReplyMessage>;
  /** Per QR scene of a follower's scan, and `default`. */
  scan: Record<string, ReplyMessage>;
  /** For text messages: tried in order, then `default`. */
  keywords: { rules: KeywordRule[]; default?: ReplyMessage };
}

export const noRules: ReplyRules = { menu: {}, welcome: {}, scan: {}, keywords: { rules: [] } };

type RulesSet = Extract<AdminEvent, { type: 'wechat.admin.reply_rules.set' }>;

/** The rules a `wechat.admin.reply_rules.set` event sets; fields absent in older events are empty. */
export function rulesOfEvent(event: RulesSet): ReplyRules {
  const { menu, welcome, scan, keywords } = event.data;
  return {
    menu: menu as Record<string, ReplyMessage>,
    welcome: welcome as Record<string, ReplyMessage>,
    scan: (scan ?? {}) as Record<string, ReplyMessage>,
    keywords: {
      rules: (keywords?.rules ?? []) as KeywordRule[],
      ...(keywords?.default ? { default: keywords.default as ReplyMessage } : {}),
    },
  };
}

/** Rules stored by an older version hold only some groups: the rest are empty. */
export function completeRules(partial: Partial<ReplyRules> | null | undefined): ReplyRules {
  return {
    menu: partial?.menu ?? {},
    welcome: partial?.welcome ?? {},
    scan: partial?.scan ?? {},
    keywords: { ...partial?.keywords, rules: partial?.keywords?.rules ?? [] },
  };
}

/** What answers an event: the rule's name (as `wechat.reply.sent` records it) and the message. */
export interface ChosenReply {
  rule: string;
  message: ReplyMessage;
}

/** The rule filed under `key` itself: a key such as "constructor" never finds what every object inherits. */
function ownRule(rules: Record<string, ReplyMessage>, key: string): ReplyMessage | undefined {
  return Object.hasOwn(rules, key) ? rules[key] : undefined;
}

function byScene(group: 'welcome' | 'scan', rules: Record<string, ReplyMessage>, scene: string | undefined) {
  const own = scene === undefined ? undefined : ownRule(rules, scene);
  if (own) return { rule: `${group}:${scene}`, message: own };
  const fallback = ownRule(rules, 'default');
  return fallback ? { rule: `${group}:default`, message: fallback } : undefined;
}

/** The text of a text message, as the user sent it. */
function textOf(event: WechatEvent): string | undefined {
  if (event.type !== 'wechat.message.received' || event.data.msgType !== 'text') return undefined;
  const content = event.data.fields.Content;
  return typeof content === 'string' ? content : undefined;
}

function byKeyword(keywords: ReplyRules['keywords'], text: string): ChosenReply | undefined {
  const trimmed = text.trim();
  const index = keywords.rules.findIndex((rule) =>
    rule.match === 'exact' ? trimmed === rule.keyword : text.includes(rule.keyword),
  );
  if (index >= 0) return { rule: `keywords:${index}`, message: keywords.rules[index]!.reply };
  return keywords.default ? { rule: 'keywords:default', message: keywords.default } : undefined;
}

/**
 * The reply an event calls for, if any: a menu click by its key, a follow by its scene (or the
 * default welcome), a follower's scan by its scene (or the default), a text by the first keyword
 * rule it matches (or the default). A reply always goes to the user who acted, so a `touser` in a
 * rule (the admin API refuses them, but the log keeps what was written before) is dropped.
 */
export function replyFor(rules: ReplyRules | null | undefined, event: WechatEvent): ChosenReply | undefined {
  if (!rules) return undefined;
  let chosen: ChosenReply | undefined;
  if (event.type === 'wechat.menu.clicked') {
    const message = ownRule(rules.menu, event.data.key);
    chosen = message && { rule: `menu:${event.data.key}`, message };
  } else if (event.type === 'wechat.user.subscribed')
    chosen = byScene('welcome', rules.welcome, event.data.scene);
  else if (event.type === 'wechat.qrcode.scanned') chosen = byScene('scan', rules.scan, event.data.scene);
  else {
    const text = textOf(event);
    if (text !== undefined) chosen = byKeyword(rules.keywords, text);
  }
  if (!chosen || chosen.message === null || typeof chosen.message !== 'object') return undefined;
  const { touser: _recipient, ...message } = chosen.message;
  return { rule: chosen.rule, message: message as ReplyMessage };
}
