import type { AdminEvent, WechatEvent } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';
import type { CustomMessage } from '@wxp/wechat-api';

/** The replies an account has configured, as the admin API last set them. */
export interface ReplyRulesDocument extends VersionedDocument {
  appId: string;
  menu: Record<string, CustomMessage>;
  welcome: Record<string, CustomMessage>;
}

export const replyRulesProjection: DocumentProjection<AdminEvent, ReplyRulesDocument> = {
  documentId: (event) => (event.type === 'wechat.admin.reply_rules.set' ? event.data.appId : undefined),
  evolve: (current, event, position) =>
    event.type === 'wechat.admin.reply_rules.set'
      ? {
          _id: event.data.appId,
          appId: event.data.appId,
          menu: event.data.menu as Record<string, CustomMessage>,
          welcome: event.data.welcome as Record<string, CustomMessage>,
          position,
        }
      : current,
};

/** The message an event calls for: the reply to a menu key, or the welcome for a follow's scene. */
export function replyFor(rules: ReplyRulesDocument | null, event: WechatEvent): CustomMessage | undefined {
  if (!rules) return undefined;
  if (event.type === 'wechat.menu.clicked') return rules.menu[event.data.key];
  if (event.type === 'wechat.user.subscribed') {
    return (
      (event.data.scene === undefined ? undefined : rules.welcome[event.data.scene]) ?? rules.welcome.default
    );
  }
  return undefined;
}
