import type { AdminEvent, WechatEvent } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';
import type { CustomMessage } from '@wxp/wechat-api';

/** The replies an account has configured, as the admin API last set them. */
export interface ReplyRules {
  menu: Record<string, CustomMessage>;
  welcome: Record<string, CustomMessage>;
}

/**
 * The stored form keeps the rules as JSON text: menu keys, scenes and message fields may hold a `.` or
 * start with `$`, which MongoDB-compatible stores refuse as field names. Documents written before
 * carry `menu` and `welcome` as fields and still read.
 */
export interface ReplyRulesDocument extends VersionedDocument {
  appId: string;
  rules?: string;
  menu?: Record<string, CustomMessage>;
  welcome?: Record<string, CustomMessage>;
}

export function replyRulesOf(document: ReplyRulesDocument | null): ReplyRules | null {
  if (!document) return null;
  if (typeof document.rules === 'string') return JSON.parse(document.rules) as ReplyRules;
  return { menu: document.menu ?? {}, welcome: document.welcome ?? {} };
}

export const replyRulesProjection: DocumentProjection<AdminEvent, ReplyRulesDocument> = {
  documentId: (event) => (event.type === 'wechat.admin.reply_rules.set' ? event.data.appId : undefined),
  evolve: (current, event, position) =>
    event.type === 'wechat.admin.reply_rules.set'
      ? {
          _id: event.data.appId,
          appId: event.data.appId,
          rules: JSON.stringify({ menu: event.data.menu, welcome: event.data.welcome }),
          position,
        }
      : current,
};

/** The rule filed under `key` itself: a key such as "constructor" never finds what every object inherits. */
function ownRule(rules: Record<string, CustomMessage>, key: string): CustomMessage | undefined {
  return Object.hasOwn(rules, key) ? rules[key] : undefined;
}

/**
 * The message an event calls for: the reply to a menu key, or the welcome for a follow's scene. A
 * reply always goes to the user who acted, so a `touser` in a rule (the admin API refuses them, but
 * the topic keeps what was written before) is dropped.
 */
export function replyFor(rules: ReplyRules | null, event: WechatEvent): CustomMessage | undefined {
  if (!rules) return undefined;
  let found: CustomMessage | undefined;
  if (event.type === 'wechat.menu.clicked') found = ownRule(rules.menu, event.data.key);
  else if (event.type === 'wechat.user.subscribed') {
    const { scene } = event.data;
    found =
      (scene === undefined ? undefined : ownRule(rules.welcome, scene)) ?? ownRule(rules.welcome, 'default');
  }
  if (found === null || typeof found !== 'object') return undefined;
  const { touser: _recipient, ...message } = found;
  return message;
}
