import type { AdminEvent } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';
import { completeRules, rulesOfEvent, type ReplyRules } from '@wxp/reply-rules';
import type { CustomMessage } from '@wxp/wechat-api';

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
  if (typeof document.rules === 'string')
    return completeRules(JSON.parse(document.rules) as Partial<ReplyRules>);
  return completeRules({ menu: document.menu ?? {}, welcome: document.welcome ?? {} });
}

export const replyRulesProjection: DocumentProjection<AdminEvent, ReplyRulesDocument> = {
  documentId: (event) => (event.type === 'wechat.admin.reply_rules.set' ? event.data.appId : undefined),
  evolve: (current, event, position) =>
    event.type === 'wechat.admin.reply_rules.set'
      ? {
          _id: event.data.appId,
          appId: event.data.appId,
          rules: JSON.stringify(rulesOfEvent(event)),
          position,
        }
      : current,
};
