import {
  ArticlePublishFinished,
  ImageReceived,
  KfSessionClosed,
  KfSessionCreated,
  KfSessionSwitched,
  LinkReceived,
  LocationReceived,
  LocationReported,
  MassSendFinished,
  MenuCodeScanned,
  MenuLocationSelected,
  MenuMiniprogramOpened,
  MenuPicturesSent,
  ShortVideoReceived,
  SubscriptionChanged,
  SubscriptionMessageSent,
  SubscriptionPopupAnswered,
  TemplateSendFinished,
  VideoReceived,
  VoiceReceived,
  type EventDefinition,
} from '@wxp/contracts';
import type { PushFields } from './push-parser';

/** The push lacks what WeChat documents for its kind; it is kept, under the generic type. */
class UnexpectedShape extends Error {}

type Fields = Record<string, unknown>;

const recordOf = (value: unknown): Fields | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;

function requiredRecord(fields: Fields, name: string): Fields {
  const value = recordOf(fields[name]);
  if (!value) throw new UnexpectedShape();
  return value;
}

/** A leaf's text; '' when the element is present and empty, undefined when absent or not a leaf. */
const textOf = (fields: Fields, name: string): string | undefined => {
  const value = fields[name];
  return typeof value === 'string' ? value : undefined;
};

/** A leaf's text when it says something: an empty element is as good as absent. */
const optionalText = (fields: Fields, name: string): string | undefined => {
  const value = textOf(fields, name);
  return value === undefined || value === '' ? undefined : value;
};

function requiredText(fields: Fields, name: string): string {
  const value = optionalText(fields, name);
  if (value === undefined) throw new UnexpectedShape();
  return value;
}

const DECIMAL = /^-?[0-9]{1,15}(\.[0-9]{1,15})?$/;
const INTEGER = /^-?[0-9]{1,15}$/;

function optionalNumber(fields: Fields, name: string, pattern = DECIMAL): number | undefined {
  const value = optionalText(fields, name);
  if (value === undefined) return undefined;
  if (!pattern.test(value)) throw new UnexpectedShape();
  return Number(value);
}

function requiredNumber(fields: Fields, name: string, pattern = DECIMAL): number {
  const value = optionalNumber(fields, name, pattern);
  if (value === undefined) throw new UnexpectedShape();
  return value;
}

const optionalInteger = (fields: Fields, name: string) => optionalNumber(fields, name, INTEGER);
const requiredInteger = (fields: Fields, name: string) => requiredNumber(fields, name, INTEGER);

/** What WeChat repeats, as a list: absent or empty is none, one is one, several are several. */
function listOf(value: unknown): unknown[] {
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

const recordsOf = (value: unknown): Fields[] =>
  listOf(value).map((item) => {
    const record = recordOf(item);
    if (!record) throw new UnexpectedShape();
    return record;
  });

/** A list WeChat nests as `<Outer><item>…</item></Outer>`, or sends as an array in JSON. */
const itemsOf = (value: unknown): Fields[] =>
  recordsOf(Array.isArray(value) ? value : recordOf(value) ? (value as Fields).item : value);

/** Without the keys whose value is absent: the event carries no `undefined`. */
function defined(data: Fields): Fields {
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined));
}

/**
 * A subscribe_msg event's items. XML nests them in `<SubscribeMsg…Event><List>`; WeChat's JSON
 * example puts `List` at the top, and some accounts have seen the container itself as the array.
 */
function subscriptionItemsOf(fields: Fields, container: string): Fields[] {
  const outer = fields[container];
  if (Array.isArray(outer)) return recordsOf(outer);
  const nested = recordOf(outer)?.List;
  return recordsOf(nested ?? fields.List);
}

interface TypedPush {
  definition: EventDefinition;
  /** The typed fields of the event, beyond those every push's event has; throws UnexpectedShape. */
  read(fields: Fields): Fields;
}

const menuKeyOf = (fields: Fields) => textOf(fields, 'EventKey') ?? '';

const byMessageType: Readonly<Record<string, TypedPush>> = {
  image: {
    definition: ImageReceived,
    read: (f) => ({ picUrl: requiredText(f, 'PicUrl'), mediaId: requiredText(f, 'MediaId') }),
  },
  voice: {
    definition: VoiceReceived,
    read: (f) => ({
      mediaId: requiredText(f, 'MediaId'),
      format: requiredText(f, 'Format'),
      mediaId16k: optionalText(f, 'MediaId16K'),
      recognition: optionalText(f, 'Recognition'),
    }),
  },
  video: {
    definition: VideoReceived,
    read: (f) => ({ mediaId: requiredText(f, 'MediaId'), thumbMediaId: requiredText(f, 'ThumbMediaId') }),
  },
  shortvideo: {
    definition: ShortVideoReceived,
    read: (f) => ({ mediaId: requiredText(f, 'MediaId'), thumbMediaId: requiredText(f, 'ThumbMediaId') }),
  },
  location: {
    definition: LocationReceived,
    read: (f) => ({
      latitude: requiredNumber(f, 'Location_X'),
      longitude: requiredNumber(f, 'Location_Y'),
      scale: optionalNumber(f, 'Scale'),
      label: optionalText(f, 'Label'),
    }),
  },
  link: {
    definition: LinkReceived,
    read: (f) => ({
      url: requiredText(f, 'Url'),
      title: optionalText(f, 'Title'),
      description: optionalText(f, 'Description'),
    }),
  },
};

const codeScan = (event: string): TypedPush => ({
  definition: MenuCodeScanned,
  read: (f) => {
    const info = requiredRecord(f, 'ScanCodeInfo');
    return {
      event,
      key: menuKeyOf(f),
      scanType: textOf(info, 'ScanType') ?? '',
      scanResult: textOf(info, 'ScanResult') ?? '',
    };
  },
});

const pictures = (event: string): TypedPush => ({
  definition: MenuPicturesSent,
  read: (f) => {
    const info = requiredRecord(f, 'SendPicsInfo');
    const sent = itemsOf(info.PicList).map((item) => ({ md5: textOf(item, 'PicMd5Sum') ?? '' }));
    return { event, key: menuKeyOf(f), count: optionalInteger(info, 'Count') ?? sent.length, pictures: sent };
  },
});

const kfAccount = (definition: EventDefinition): TypedPush => ({
  definition,
  read: (f) => ({ kfAccount: requiredText(f, 'KfAccount') }),
});

/** The job's id: WeChat spells it MsgID in receipts. */
const jobMsgIdOf = (f: Fields) => optionalText(f, 'MsgID') ?? requiredText(f, 'MsgId');

/** Event names as WeChat documents them, lower-cased: WeChat mixes cases (LOCATION, scancode_push). */
const byEventName: Readonly<Record<string, TypedPush>> = {
  location: {
    definition: LocationReported,
    read: (f) => ({
      latitude: requiredNumber(f, 'Latitude'),
      longitude: requiredNumber(f, 'Longitude'),
      precision: requiredNumber(f, 'Precision'),
    }),
  },
  scancode_push: codeScan('scancode_push'),
  scancode_waitmsg: codeScan('scancode_waitmsg'),
  pic_sysphoto: pictures('pic_sysphoto'),
  pic_photo_or_album: pictures('pic_photo_or_album'),
  pic_weixin: pictures('pic_weixin'),
  location_select: {
    definition: MenuLocationSelected,
    read: (f) => {
      const info = requiredRecord(f, 'SendLocationInfo');
      return {
        key: menuKeyOf(f),
        latitude: requiredNumber(info, 'Location_X'),
        longitude: requiredNumber(info, 'Location_Y'),
        scale: optionalNumber(info, 'Scale'),
        label: optionalText(info, 'Label'),
        poiName: optionalText(info, 'Poiname'),
      };
    },
  },
  view_miniprogram: {
    definition: MenuMiniprogramOpened,
    read: (f) => ({ pagePath: menuKeyOf(f), menuId: optionalText(f, 'MenuId') }),
  },
  templatesendjobfinish: {
    definition: TemplateSendFinished,
    read: (f) => ({ msgId: jobMsgIdOf(f), status: textOf(f, 'Status') ?? '' }),
  },
  masssendjobfinish: {
    definition: MassSendFinished,
    read: (f) => {
      const copyright = recordOf(f.CopyrightCheckResult);
      const urls = recordOf(f.ArticleUrlResult);
      return {
        msgId: jobMsgIdOf(f),
        status: textOf(f, 'Status') ?? '',
        totalCount: requiredInteger(f, 'TotalCount'),
        filterCount: requiredInteger(f, 'FilterCount'),
        sentCount: requiredInteger(f, 'SentCount'),
        errorCount: requiredInteger(f, 'ErrorCount'),
        copyrightCheck: copyright && {
          checkState: requiredInteger(copyright, 'CheckState'),
          results: itemsOf(copyright.ResultList).map((item) =>
            defined({
              articleIdx: requiredInteger(item, 'ArticleIdx'),
              auditState: optionalInteger(item, 'AuditState'),
              userDeclareState: optionalInteger(item, 'UserDeclareState'),
              originalArticleUrl: optionalText(item, 'OriginalArticleUrl'),
              originalArticleType: optionalInteger(item, 'OriginalArticleType'),
              canReprint: optionalInteger(item, 'CanReprint'),
              needReplaceContent: optionalInteger(item, 'NeedReplaceContent'),
              needShowReprintSource: optionalInteger(item, 'NeedShowReprintSource'),
            }),
          ),
        },
        articleUrls:
          urls &&
          itemsOf(urls.ResultList).map((item) => ({
            articleIdx: requiredInteger(item, 'ArticleIdx'),
            url: textOf(item, 'ArticleUrl') ?? '',
          })),
      };
    },
  },
  subscribe_msg_popup_event: {
    definition: SubscriptionPopupAnswered,
    read: (f) => ({
      items: subscriptionItemsOf(f, 'SubscribeMsgPopupEvent').map((item) =>
        defined({
          templateId: requiredText(item, 'TemplateId'),
          status: textOf(item, 'SubscribeStatusString') ?? '',
          popupScene: optionalInteger(item, 'PopupScene'),
        }),
      ),
    }),
  },
  subscribe_msg_change_event: {
    definition: SubscriptionChanged,
    read: (f) => ({
      items: subscriptionItemsOf(f, 'SubscribeMsgChangeEvent').map((item) => ({
        templateId: requiredText(item, 'TemplateId'),
        status: textOf(item, 'SubscribeStatusString') ?? '',
      })),
    }),
  },
  subscribe_msg_sent_event: {
    definition: SubscriptionMessageSent,
    read: (f) => ({
      items: subscriptionItemsOf(f, 'SubscribeMsgSentEvent').map((item) => ({
        templateId: requiredText(item, 'TemplateId'),
        msgId: jobMsgIdOf(item),
        errorCode: requiredInteger(item, 'ErrorCode'),
        errorStatus: textOf(item, 'ErrorStatus') ?? '',
      })),
    }),
  },
  kf_create_session: kfAccount(KfSessionCreated),
  kf_close_session: kfAccount(KfSessionClosed),
  kf_switch_session: {
    definition: KfSessionSwitched,
    read: (f) => ({
      fromKfAccount: requiredText(f, 'FromKfAccount'),
      toKfAccount: requiredText(f, 'ToKfAccount'),
    }),
  },
  publishjobfinish: {
    definition: ArticlePublishFinished,
    read: (f) => {
      const info = requiredRecord(f, 'PublishEventInfo');
      return {
        publishId: requiredText(info, 'publish_id'),
        status: requiredInteger(info, 'publish_status'),
        articleId: optionalText(info, 'article_id'),
        articles: itemsOf(info.article_detail).map((item) => ({
          idx: requiredInteger(item, 'idx'),
          url: textOf(item, 'article_url') ?? '',
        })),
        failedIdx: listOf(info.fail_idx).map((idx) => {
          if (typeof idx !== 'string' || !INTEGER.test(idx)) throw new UnexpectedShape();
          return Number(idx);
        }),
      };
    },
  },
};

export type TypedReading =
  /** The push is of a documented kind and has its shape: these are the typed fields. */
  | { definition: EventDefinition; data: Fields }
  /** The push is of a documented kind, without its documented shape. */
  | { definition: EventDefinition; data?: undefined }
  /** A kind of push without a declared type of its own. */
  | undefined;

/** Reads the typed fields of a push of a kind with a declared type. */
export function typedReadingOf(
  msgType: string,
  eventName: string | undefined,
  fields: PushFields,
): TypedReading {
  const [table, name] =
    msgType === 'event' ? [byEventName, eventName?.toLowerCase()] : [byMessageType, msgType];
  // Own names only: a push naming `constructor` reaches nothing.
  const typed = name !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
  if (!typed) return undefined;
  try {
    return { definition: typed.definition, data: defined(typed.read(fields)) };
  } catch (error) {
    if (error instanceof UnexpectedShape) return { definition: typed.definition };
    throw error;
  }
}

/**
 * The MsgIDs a subscribe_msg_sent_event carries in its items: one push may report several
 * messages, and two pushes for one user in one second differ only there.
 */
export function subscriptionMsgIdsOf(fields: PushFields): string | undefined {
  let items: Fields[];
  try {
    items = subscriptionItemsOf(fields, 'SubscribeMsgSentEvent');
  } catch (error) {
    if (error instanceof UnexpectedShape) return undefined;
    throw error;
  }
  const ids = items.map((item) => textOf(item, 'MsgID') ?? textOf(item, 'MsgId') ?? '');
  return ids.some((id) => id !== '') ? ids.join(',') : undefined;
}
