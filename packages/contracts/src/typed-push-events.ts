import { Type } from '@sinclair/typebox';
import { defineEvent } from './event-definition';
import { MessageId, Sealed, userEventBase } from './push-event-base';
import { Topics } from './topics';

/*
 * One declared type for each push WeChat documents for Official Accounts beyond the seed's. Each was
 * `wechat.message.received` or `wechat.event.received` before; events already on the log keep the
 * type they were written with. What a user sent, where they were and what they scanned is sealed;
 * what belongs to the account (menu keys, template and article ids, job counts) is in clear.
 */

const degrees = (what: string) => Type.Number({ minimum: -180, maximum: 180, description: what });
const count = (what: string) => Type.Integer({ minimum: 0, description: what });
const menuKey = Type.String({ description: 'EventKey: the key of the menu button' });
const optionalMsgId = Type.Optional(MessageId);

/** Where a user is or chose: a location message's fields, or a location_select's SendLocationInfo. */
const placeFields = (container: string, label: string) => ({
  latitude: Sealed(degrees(`${container}Location_X: latitude, degrees`), 'Location_X'),
  longitude: Sealed(degrees(`${container}Location_Y: longitude, degrees`), 'Location_Y'),
  scale: Type.Optional(Sealed(Type.Number({ description: 'Scale: the map zoom' }), 'Scale')),
  label: Type.Optional(Sealed(Type.String(), label)),
});

// Messages a user sends (MsgType other than `event`).

export const ImageReceived = defineEvent(
  'wechat.image.received',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgId: optionalMsgId,
    picUrl: Sealed(Type.String(), 'PicUrl: where WeChat serves the picture'),
    mediaId: Sealed(Type.String(), 'MediaId: the picture, for the media API'),
  }),
);

export const VoiceReceived = defineEvent(
  'wechat.voice.received',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgId: optionalMsgId,
    mediaId: Sealed(Type.String(), 'MediaId: the recording, for the media API'),
    format: Type.String({ minLength: 1, description: 'Format of the recording: amr, speex, …' }),
    mediaId16k: Type.Optional(Sealed(Type.String(), 'MediaId16K: the recording at 16 kHz')),
    recognition: Type.Optional(
      Sealed(Type.String(), "Recognition: WeChat's transcript, when speech recognition is on"),
    ),
  }),
);

const videoShape = Type.Object({
  ...userEventBase,
  msgId: optionalMsgId,
  mediaId: Sealed(Type.String(), 'MediaId: the video, for the media API'),
  thumbMediaId: Sealed(Type.String(), "ThumbMediaId: the video's thumbnail, for the media API"),
});

export const VideoReceived = defineEvent('wechat.video.received', 1, Topics.events, videoShape);
export const ShortVideoReceived = defineEvent('wechat.shortvideo.received', 1, Topics.events, videoShape);

export const LocationReceived = defineEvent(
  'wechat.location.received',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgId: optionalMsgId,
    ...placeFields('', 'Label: the place, as WeChat names it'),
  }),
);

export const LinkReceived = defineEvent(
  'wechat.link.received',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgId: optionalMsgId,
    url: Sealed(Type.String(), 'Url: the link'),
    title: Type.Optional(Sealed(Type.String(), 'Title of the link')),
    description: Type.Optional(Sealed(Type.String(), 'Description of the link')),
  }),
);

// Events a user causes.

export const LocationReported = defineEvent(
  'wechat.location.reported',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    latitude: Sealed(degrees('Latitude, degrees'), 'Latitude'),
    longitude: Sealed(degrees('Longitude, degrees'), 'Longitude'),
    precision: Sealed(Type.Number({ minimum: 0, description: 'Precision, metres' }), 'Precision'),
  }),
);

export const MenuCodeScanned = defineEvent(
  'wechat.menu.code_scanned',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    event: Type.Union([Type.Literal('scancode_push'), Type.Literal('scancode_waitmsg')], {
      description: 'Event: scancode_push, or scancode_waitmsg when the user waits for a message',
    }),
    key: menuKey,
    scanType: Type.String({ description: 'ScanCodeInfo.ScanType: qrcode, barcode, …' }),
    scanResult: Sealed(Type.String(), 'ScanCodeInfo.ScanResult: what the code says'),
  }),
);

export const MenuPicturesSent = defineEvent(
  'wechat.menu.pictures_sent',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    event: Type.Union(
      [Type.Literal('pic_sysphoto'), Type.Literal('pic_photo_or_album'), Type.Literal('pic_weixin')],
      { description: 'Event: which picture menu the user chose' },
    ),
    key: menuKey,
    count: count('SendPicsInfo.Count: pictures sent'),
    pictures: Sealed(
      Type.Array(Type.Object({ md5: Type.String({ description: 'PicMd5Sum' }) })),
      'SendPicsInfo.PicList: one entry per picture, always a list',
    ),
  }),
);

export const MenuLocationSelected = defineEvent(
  'wechat.menu.location_selected',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    key: menuKey,
    ...placeFields('SendLocationInfo.', 'SendLocationInfo.Label: the address'),
    poiName: Type.Optional(Sealed(Type.String(), 'SendLocationInfo.Poiname: the place chosen')),
  }),
);

export const MenuMiniprogramOpened = defineEvent(
  'wechat.menu.miniprogram_opened',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    pagePath: Type.String({ description: 'EventKey: the mini program page opened' }),
    menuId: Type.Optional(Type.String({ description: 'MenuId, kept as a string' })),
  }),
);

const templateItem = {
  templateId: Type.String({ minLength: 1, description: 'TemplateId' }),
};

export const SubscriptionPopupAnswered = defineEvent(
  'wechat.subscription.popup_answered',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    items: Type.Array(
      Type.Object({
        ...templateItem,
        status: Type.String({ description: 'SubscribeStatusString: accept or reject' }),
        popupScene: Type.Optional(
          Type.Integer({ minimum: 0, description: 'PopupScene: where it popped up' }),
        ),
      }),
      { description: 'List: one entry per template, always a list' },
    ),
  }),
);

export const SubscriptionChanged = defineEvent(
  'wechat.subscription.changed',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    items: Type.Array(
      Type.Object({
        ...templateItem,
        status: Type.String({ description: 'SubscribeStatusString: reject, when the user turned it off' }),
      }),
      { description: 'List: one entry per template, always a list' },
    ),
  }),
);

export const KfSessionCreated = defineEvent(
  'wechat.kf.session_created',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    kfAccount: Type.String({ minLength: 1, description: 'KfAccount: the agent who took the session' }),
  }),
);

export const KfSessionClosed = defineEvent(
  'wechat.kf.session_closed',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    kfAccount: Type.String({ minLength: 1, description: 'KfAccount: the agent who closed the session' }),
  }),
);

export const KfSessionSwitched = defineEvent(
  'wechat.kf.session_switched',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    fromKfAccount: Type.String({ minLength: 1, description: 'FromKfAccount: the agent before' }),
    toKfAccount: Type.String({ minLength: 1, description: 'ToKfAccount: the agent after' }),
  }),
);

// Receipts of what the account sent: WeChat reports them as pushes, but the user did nothing.

const jobMsgId = Type.String({ pattern: '^[0-9]+$', description: 'MsgID of the job, as a string' });

export const TemplateSendFinished = defineEvent(
  'wechat.template.send_finished',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgId: jobMsgId,
    status: Type.String({ description: 'Status: success, failed:user block, failed: system failed' }),
  }),
);

export const MassSendFinished = defineEvent(
  'wechat.mass.send_finished',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    msgId: jobMsgId,
    status: Type.String({ description: 'Status: send success, send fail, err(<code>)' }),
    totalCount: count('TotalCount: followers targeted'),
    filterCount: count('FilterCount: followers left after filtering'),
    sentCount: count('SentCount: sent'),
    errorCount: count('ErrorCount: failed'),
    copyrightCheck: Type.Optional(
      Type.Object(
        {
          checkState: Type.Integer({ description: 'CheckState: 1 could be sent, 2 could not' }),
          results: Type.Array(
            Type.Object({
              articleIdx: Type.Integer({ minimum: 0, description: 'ArticleIdx' }),
              auditState: Type.Optional(Type.Integer({ description: 'AuditState' })),
              userDeclareState: Type.Optional(Type.Integer({ description: 'UserDeclareState' })),
              originalArticleUrl: Type.Optional(Type.String({ description: 'OriginalArticleUrl' })),
              originalArticleType: Type.Optional(Type.Integer({ description: 'OriginalArticleType' })),
              canReprint: Type.Optional(Type.Integer({ description: 'CanReprint' })),
              needReplaceContent: Type.Optional(Type.Integer({ description: 'NeedReplaceContent' })),
              needShowReprintSource: Type.Optional(Type.Integer({ description: 'NeedShowReprintSource' })),
            }),
            { description: 'ResultList: one entry per article, always a list' },
          ),
        },
        { description: 'CopyrightCheckResult' },
      ),
    ),
    articleUrls: Type.Optional(
      Type.Array(
        Type.Object({
          articleIdx: Type.Integer({ minimum: 0, description: 'ArticleIdx' }),
          url: Type.String({ description: 'ArticleUrl' }),
        }),
        { description: 'ArticleUrlResult.ResultList: one entry per article, always a list' },
      ),
    ),
  }),
);

export const SubscriptionMessageSent = defineEvent(
  'wechat.subscription.message_sent',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    items: Type.Array(
      Type.Object({
        ...templateItem,
        msgId: jobMsgId,
        errorCode: Type.Integer({ description: 'ErrorCode: 0 when delivered' }),
        errorStatus: Type.String({ description: 'ErrorStatus: success, or why not' }),
      }),
      { description: 'List: one entry per message, always a list' },
    ),
  }),
);

export const ArticlePublishFinished = defineEvent(
  'wechat.article.publish_finished',
  1,
  Topics.events,
  Type.Object({
    ...userEventBase,
    publishId: Type.String({ pattern: '^[0-9]+$', description: 'publish_id, as a string' }),
    status: Type.Integer({
      minimum: 0,
      description:
        'publish_status: 0 published, 1 publishing, 2 refused as not original, 3 failed, 4 refused by review, 5 deleted, 6 banned',
    }),
    articleId: Type.Optional(Type.String({ description: 'article_id, when published' })),
    articles: Type.Array(
      Type.Object({
        idx: Type.Integer({ minimum: 0, description: 'idx' }),
        url: Type.String({ description: 'article_url' }),
      }),
      { description: 'article_detail: one entry per article, always a list' },
    ),
    failedIdx: Type.Array(Type.Integer({ minimum: 0 }), {
      description: 'fail_idx: the articles that failed the originality check, always a list',
    }),
  }),
);

/** The types of pushes a user sent or caused, besides the seed's. */
export const typedUserPushDefinitions = [
  ImageReceived,
  VoiceReceived,
  VideoReceived,
  ShortVideoReceived,
  LocationReceived,
  LinkReceived,
  LocationReported,
  MenuCodeScanned,
  MenuPicturesSent,
  MenuLocationSelected,
  MenuMiniprogramOpened,
  SubscriptionPopupAnswered,
  SubscriptionChanged,
] as const;

/** The types of a customer-service session's changes: an agent acted, not the user. */
export const kfSessionDefinitions = [KfSessionCreated, KfSessionClosed, KfSessionSwitched] as const;

/** The types of WeChat's receipts for what the account sent: no user acted. */
export const receiptDefinitions = [
  TemplateSendFinished,
  MassSendFinished,
  SubscriptionMessageSent,
  ArticlePublishFinished,
] as const;

/**
 * The WeChat pushes each type is made from, and the files in `fixtures/pushes/` (`.xml` and
 * `.json`) holding WeChat's documented example of each.
 */
export const documentedPushesOf: Readonly<Record<string, { pushes: string; fixtures: readonly string[] }>> = {
  [ImageReceived.type]: { pushes: 'MsgType image', fixtures: ['image'] },
  [VoiceReceived.type]: { pushes: 'MsgType voice', fixtures: ['voice'] },
  [VideoReceived.type]: { pushes: 'MsgType video', fixtures: ['video'] },
  [ShortVideoReceived.type]: { pushes: 'MsgType shortvideo', fixtures: ['shortvideo'] },
  [LocationReceived.type]: { pushes: 'MsgType location', fixtures: ['location'] },
  [LinkReceived.type]: { pushes: 'MsgType link', fixtures: ['link'] },
  [LocationReported.type]: { pushes: 'Event LOCATION', fixtures: ['LOCATION'] },
  [MenuCodeScanned.type]: {
    pushes: 'Event scancode_push, scancode_waitmsg',
    fixtures: ['scancode_push', 'scancode_waitmsg'],
  },
  [MenuPicturesSent.type]: {
    pushes: 'Event pic_sysphoto, pic_photo_or_album, pic_weixin',
    fixtures: ['pic_sysphoto', 'pic_photo_or_album', 'pic_weixin'],
  },
  [MenuLocationSelected.type]: { pushes: 'Event location_select', fixtures: ['location_select'] },
  [MenuMiniprogramOpened.type]: { pushes: 'Event view_miniprogram', fixtures: ['view_miniprogram'] },
  [SubscriptionPopupAnswered.type]: {
    pushes: 'Event subscribe_msg_popup_event',
    fixtures: ['subscribe_msg_popup_event'],
  },
  [SubscriptionChanged.type]: {
    pushes: 'Event subscribe_msg_change_event',
    fixtures: ['subscribe_msg_change_event'],
  },
  [KfSessionCreated.type]: { pushes: 'Event kf_create_session', fixtures: ['kf_create_session'] },
  [KfSessionClosed.type]: { pushes: 'Event kf_close_session', fixtures: ['kf_close_session'] },
  [KfSessionSwitched.type]: { pushes: 'Event kf_switch_session', fixtures: ['kf_switch_session'] },
  [TemplateSendFinished.type]: { pushes: 'Event TEMPLATESENDJOBFINISH', fixtures: ['TEMPLATESENDJOBFINISH'] },
  [MassSendFinished.type]: { pushes: 'Event MASSSENDJOBFINISH', fixtures: ['MASSSENDJOBFINISH'] },
  [SubscriptionMessageSent.type]: {
    pushes: 'Event subscribe_msg_sent_event',
    fixtures: ['subscribe_msg_sent_event'],
  },
  [ArticlePublishFinished.type]: {
    pushes: 'Event PUBLISHJOBFINISH',
    fixtures: ['PUBLISHJOBFINISH', 'PUBLISHJOBFINISH-failed'],
  },
};
