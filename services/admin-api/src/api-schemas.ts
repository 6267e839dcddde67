import { Type, type TSchema } from '@sinclair/typebox';
import { CustomMessage } from '@wxp/contracts';
import { MAX_EXPIRE_SECONDS, MAX_TEMPORARY_SCENE_ID, leafButtonTypes } from '@wxp/wechat-api';

/** The bodies and parameters of the admin API, each declared once for validation and the document. */

export const AppId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The Official Account' });
export const SceneText = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'The scene as WeChat pushes it back: a number as text, or the text scene',
});
const DateTime = Type.String({ format: 'date-time' });
const Count = Type.Integer({ minimum: 0 });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const AppParams = Type.Object({ appId: AppId });
export const SceneParams = Type.Object({ appId: AppId, scene: SceneText });
export const OpenIdParams = Type.Object({
  appId: AppId,
  openId: Type.String({ minLength: 1, maxLength: 128 }),
});
/** WeChat openIds are 28 characters of these; anything else is not one, and is refused before work is done. */
export const WechatOpenId = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'The user’s openId for this account (WeChat’s are 28 characters of A-Z, a-z, 0-9, _ and -)',
});
export const UserParams = Type.Object({ appId: AppId, openId: WechatOpenId });
export const NoParams = Type.Object({});

export const ErrorBody = Type.Object({
  error: Type.String({ description: 'A stable code' }),
  message: Type.String(),
});

export const AppList = Type.Object({
  apps: Type.Array(
    Type.Object({
      appId: AppId,
      encryptMode: Type.Union([Type.Literal('plain'), Type.Literal('compat'), Type.Literal('safe')]),
      format: Type.Union([Type.Literal('xml'), Type.Literal('json')]),
    }),
  ),
});

export const CampaignFigures = Type.Object({
  scans: Count,
  subscribes: Type.Integer({ minimum: 0, description: 'New followers through the code' }),
  returning: Type.Integer({ minimum: 0, description: 'Former followers who came back through the code' }),
  unsubscribes: Type.Integer({ minimum: 0, description: 'Followers the code brought who left again' }),
});

const QrKind = Type.Union([Type.Literal('temporary'), Type.Literal('permanent')]);

export const QrCodeRequest = Type.Object(
  {
    kind: QrKind,
    scene: Type.Union([
      Type.Integer({ minimum: 1, maximum: MAX_TEMPORARY_SCENE_ID }),
      Type.String({ minLength: 1, maxLength: 64 }),
    ]),
    expireSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_EXPIRE_SECONDS,
        description: 'Temporary codes only; WeChat applies its short default when absent',
      }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The campaign's name" })),
    tag: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 30,
        description:
          'A WeChat user tag (1 to 30 characters, WeChat’s limit) given to each follower who comes in ' +
          'through this code; made on first use',
      }),
    ),
  },
  { additionalProperties: false },
);

export const QrCodeCreated = Type.Object({
  appId: AppId,
  scene: Type.Union([Type.Integer(), Type.String()]),
  kind: QrKind,
  name: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  ticket: Type.String(),
  url: Type.String({ description: 'What the code encodes' }),
  expireSeconds: Type.Optional(Type.Integer()),
  expiresAt: Type.Optional(DateTime),
  imageUrl: Type.String({ description: 'This API’s rendering of the code (PNG; add ?format=svg for SVG)' }),
  wechatImageUrl: Type.String({ description: 'WeChat’s own image of the code (showqrcode)' }),
  event: Type.String({ description: 'The id of the campaign event on wechat.admin.v1' }),
});

export const QrCodeList = Type.Object({
  appId: AppId,
  qrcodes: Type.Array(
    Type.Object({
      scene: Type.String(),
      sceneId: Type.Optional(Type.Integer()),
      kind: QrKind,
      name: Type.Optional(Type.String()),
      tag: Type.Optional(Type.String()),
      ticket: Type.String(),
      url: Type.String(),
      expireSeconds: Type.Optional(Type.Integer()),
      expiresAt: Type.Optional(DateTime),
      expired: Type.Boolean(),
      createdAt: DateTime,
      imageUrl: Type.String(),
      stats: CampaignFigures,
    }),
  ),
});

export const QrImageQuery = Type.Object({
  format: Type.Union([Type.Literal('png'), Type.Literal('svg')], { default: 'png' }),
  size: Type.Integer({
    minimum: 64,
    maximum: 2048,
    default: 430,
    description: 'Pixels (PNG) or width (SVG)',
  }),
  download: Type.Boolean({ default: false, description: 'Sent as an attachment with a file name' }),
});

export const SnapshotId = Type.String({
  pattern: '^[a-z][a-z-]{0,40}\\.[0-9a-z]{1,12}$',
  description: 'A read model as it stood at a time, built by `wxp replay <service> --until <time>`',
});
export const SnapshotParams = Type.Object({ snapshotId: SnapshotId });
const SnapshotQuery = {
  snapshot: Type.Optional(
    Type.String({
      ...SnapshotId,
      description:
        'Read the figures from this snapshot of the qr-attribution read model instead of the live one',
    }),
  ),
};
export const CampaignStatsQuery = Type.Object(SnapshotQuery);
const FromSnapshot = Type.Optional(
  Type.Object(
    { id: SnapshotId, until: DateTime },
    { description: 'Present when the figures come from a snapshot' },
  ),
);
export const Snapshot = Type.Object({
  id: SnapshotId,
  service: Type.String(),
  until: Type.String({ format: 'date-time', description: 'The log before this time made it' }),
  builtAt: DateTime,
  events: Count,
});
export const SnapshotList = Type.Object({ snapshots: Type.Array(Snapshot) });

export const CampaignStats = Type.Object({
  appId: AppId,
  scene: Type.String(),
  name: Type.Optional(Type.String()),
  snapshot: FromSnapshot,
  ...CampaignFigures.properties,
  days: Type.Array(
    Type.Object({
      day: Type.String({ description: 'China time, YYYY-MM-DD' }),
      ...CampaignFigures.properties,
    }),
    { description: 'Every day from the first to the last with activity, zeros included' },
  ),
});

/** The longest range of days one funnel answer covers: a year, leap day included. */
export const MAX_FUNNEL_DAYS = 366;

const ChinaDay = (description: string) =>
  Type.String({
    pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
    description: `${description} (China time, YYYY-MM-DD)`,
  });

export const FunnelQuery = Type.Object({
  from: Type.Optional(
    ChinaDay('The first cohort day; default: the first with figures, at most a year before `to`'),
  ),
  to: Type.Optional(ChinaDay('The last cohort day; default: the last with figures')),
  ...SnapshotQuery,
});

export const FunnelFigures = Type.Object({
  scans: Type.Integer({
    minimum: 0,
    description:
      'Scans of the code WeChat pushed: follows through it (a non-follower’s scan arrives only as the follow ' +
      'it ends in) and scans by followers',
  }),
  newFollows: Type.Integer({ minimum: 0, description: 'First follows through the code' }),
  returningFollows: Type.Integer({ minimum: 0, description: 'Follows through the code by former followers' }),
  engagedWithin24h: Type.Integer({
    minimum: 0,
    description: 'Of those follows, the followers who tapped a menu button or sent a message within 24 hours',
  }),
  unfollowedWithin7d: Type.Integer({ minimum: 0, description: 'Of those follows, unfollowed within 7 days' }),
  unfollowedWithin30d: Type.Integer({
    minimum: 0,
    description: 'Of those follows, unfollowed within 30 days (those within 7 included)',
  }),
});

export const CampaignFunnel = Type.Object({
  appId: AppId,
  scene: Type.String(),
  name: Type.Optional(Type.String()),
  snapshot: FromSnapshot,
  from: Type.Optional(Type.String({ description: 'The first day of `days`; absent when there is none' })),
  to: Type.Optional(Type.String({ description: 'The last day of `days`; absent when there is none' })),
  ...FunnelFigures.properties,
  days: Type.Array(
    Type.Object({
      day: Type.String({ description: 'The cohort day: China time, YYYY-MM-DD, of the scan or follow' }),
      ...FunnelFigures.properties,
    }),
    { description: `Every day from \`from\` to \`to\`, zeros included; at most ${MAX_FUNNEL_DAYS}` },
  ),
});

const buttonFields = {
  name: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.Union(leafButtonTypes.map((t) => Type.Literal(t)))),
  key: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  media_id: Type.Optional(Type.String()),
  article_id: Type.Optional(Type.String()),
  appid: Type.Optional(Type.String()),
  pagepath: Type.Optional(Type.String()),
};
const LeafButton = Type.Object(buttonFields, { additionalProperties: true });

export const Menu = Type.Object(
  {
    button: Type.Array(Type.Object({ ...buttonFields, sub_button: Type.Optional(Type.Array(LeafButton)) }), {
      description: '1 to 3 buttons, each with up to 5 sub-buttons',
    }),
  },
  { description: "WeChat's menu/create body" },
);

export const MenuView = Type.Object({ appId: AppId, menu: Menu });
export const MenuPublishedView = Type.Object({ appId: AppId, menu: Menu, event: Type.String() });

const Messages = (description: string) =>
  Type.Record(Type.String({ minLength: 1 }), CustomMessage, { description });
const KeywordRules = Type.Object(
  {
    rules: Type.Array(
      Type.Object(
        {
          match: Type.Union([Type.Literal('exact'), Type.Literal('contains')], {
            description: 'exact: the whole text (trimmed) is the keyword; contains: the text holds it',
          }),
          keyword: Type.String({ minLength: 1, maxLength: 300 }),
          reply: CustomMessage,
        },
        { additionalProperties: false },
      ),
      { maxItems: 200, description: 'Tried in order; the first that matches answers' },
    ),
    default: Type.Optional(CustomMessage),
  },
  { additionalProperties: false, description: 'Replies to text messages' },
);
export const ReplyRulesRequest = Type.Object(
  {
    menu: Type.Optional(Messages('The message sent for each menu key clicked')),
    welcome: Type.Optional(
      Messages('The message sent on a follow through each QR scene, and "default" for other follows'),
    ),
    scan: Type.Optional(
      Messages('The message sent when a follower scans each QR scene, and "default" for other scenes'),
    ),
    keywords: Type.Optional(KeywordRules),
  },
  { additionalProperties: false },
);
export const ReplyRulesView = Type.Object({
  appId: AppId,
  menu: Type.Record(Type.String(), CustomMessage),
  welcome: Type.Record(Type.String(), CustomMessage),
  scan: Type.Record(Type.String(), CustomMessage),
  keywords: KeywordRules,
});
export const ReplyRulesAccepted = Type.Object({
  accepted: Type.String({ description: 'The id of the event on wechat.admin.v1' }),
  ...ReplyRulesView.properties,
});

export const Subscriber = Type.Object({
  appId: AppId,
  openId: Type.Optional(
    Type.String({ description: 'Absent for a follower who asked to be erased: they are still counted' }),
  ),
  subscribed: Type.Literal(true),
  subscribedAt: Type.Optional(DateTime),
  firstSubscribedAt: Type.Optional(DateTime),
  scene: Nullable(Type.String()),
  sceneId: Nullable(Type.Integer()),
  lastActivityAt: Type.Optional(DateTime),
});

/** Deeper pages would have the store skip millions of documents for one answer. */
export const MAX_SUBSCRIBER_PAGE = 10_000;

export const SubscriberQuery = Type.Object({
  scene: Type.Optional(SceneText),
  page: Type.Integer({
    minimum: 1,
    maximum: MAX_SUBSCRIBER_PAGE,
    default: 1,
    description: `At most ${MAX_SUBSCRIBER_PAGE}: the store skips every follower before the page`,
  }),
  pageSize: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
});

export const SubscriberPage = Type.Object({
  appId: AppId,
  total: Count,
  page: Type.Integer({ minimum: 1 }),
  pageSize: Type.Integer({ minimum: 1 }),
  subscribers: Type.Array(Subscriber),
});

export const FollowerStats = Type.Object({
  appId: AppId,
  followers: Type.Integer(),
  follows: Count,
  unfollows: Count,
  days: Type.Array(Type.Object({ day: Type.String(), follows: Count, unfollows: Count })),
});

export const ErasureAccepted = Type.Object({ status: Type.Literal('erasure accepted') });
