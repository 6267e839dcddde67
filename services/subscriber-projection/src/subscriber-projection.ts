import type { WechatEvent } from '@wxp/contracts';
import type { DocumentProjection, VersionedDocument } from '@wxp/mongo';

/** One follower of one account. The document exists only while the user follows. */
export interface SubscriberDocument extends VersionedDocument {
  appId: string;
  openId: string;
  subscribed: true;
  /** When the current follow began. */
  subscribedAt: Date;
  /** The QR scene the user followed through, if any. */
  scene?: string;
  sceneId?: number;
  ticket?: string;
  lastActivityAt: Date;
  lastEventId: string;
}

export function subscriberId(appId: string, openId: string): string {
  return `${appId}:${openId}`;
}

/**
 * subscribe starts a document, unsubscribe removes it (WeChat's privacy rule: nothing about the
 * user stays), and any other event of a known follower moves their last activity.
 */
export const subscriberProjection: DocumentProjection<WechatEvent, SubscriberDocument> = {
  documentId: (event) => subscriberId(event.data.appId, event.data.openId),

  evolve(current, event, position) {
    const at = new Date(event.data.createTime * 1000);
    switch (event.type) {
      case 'wechat.user.subscribed': {
        const { appId, openId, scene, sceneId, ticket } = event.data;
        return {
          _id: subscriberId(appId, openId),
          appId,
          openId,
          subscribed: true,
          subscribedAt: at,
          ...(scene === undefined ? {} : { scene }),
          ...(sceneId === undefined ? {} : { sceneId }),
          ...(ticket === undefined ? {} : { ticket }),
          lastActivityAt: at,
          lastEventId: event.id,
          position,
        };
      }
      case 'wechat.user.unsubscribed':
        return null;
      case 'wechat.qrcode.scanned':
      case 'wechat.menu.clicked':
      case 'wechat.menu.viewed':
      case 'wechat.message.received':
      case 'wechat.event.received':
        if (!current) return null;
        return {
          ...current,
          lastActivityAt: at > current.lastActivityAt ? at : current.lastActivityAt,
          lastEventId: event.id,
          position,
        };
      default: {
        const unhandled: never = event;
        return unhandled;
      }
    }
  },
};
