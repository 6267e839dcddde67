import * as S from './api-schemas';
import type { OperationSpec, ResponseSpec } from './operation';

const json = (description: string, schema: ResponseSpec['schema']): ResponseSpec => ({ description, schema });
const problem = (description: string): ResponseSpec => ({ description, schema: S.ErrorBody });
const invalid = problem('The input is invalid; the message names each field');
const unknownApp = problem('The appId is not one of the configured accounts');
const wechatRefused = problem('WeChat refused the call; the message has its errcode');
const wechatUnreachable = problem(
  'WeChat could not be reached or did not answer in time (nothing was done), or WeChat took the ' +
    'command but the broker did not take its event (`not_recorded`: the message says what was done)',
);

export const listApps = {
  operationId: 'listApps',
  method: 'get',
  path: '/apps',
  tag: 'accounts',
  summary: 'The Official Accounts this deployment serves',
  params: S.NoParams,
  responses: { 200: json('The accounts, without their secrets', S.AppList) },
} satisfies OperationSpec;

export const createQrCode = {
  operationId: 'createQrCode',
  method: 'post',
  path: '/apps/{appId}/qrcodes',
  tag: 'campaigns',
  summary: 'Create a parametric QR code for a campaign',
  description:
    'Checks the scene and expiry against WeChat’s limits before calling qrcode/create, then records the ' +
    'campaign as a wechat.admin.campaign.created event on wechat.admin.v1. Numeric scenes are 1 to ' +
    '4294967295 for temporary codes and 1 to 100000 for permanent ones; text scenes are 1 to 64 characters. ' +
    'A `tag` (1 to 30 characters) is given by the profile enricher to each follower who comes in through the code.',
  params: S.AppParams,
  body: S.QrCodeRequest,
  responses: {
    201: json('The code, with where to get its image', S.QrCodeCreated),
    400: invalid,
    404: unknownApp,
    502: wechatRefused,
    503: wechatUnreachable,
  },
} satisfies OperationSpec;

export const listQrCodes = {
  operationId: 'listQrCodes',
  method: 'get',
  path: '/apps/{appId}/qrcodes',
  tag: 'campaigns',
  summary: 'The campaigns’ QR codes, newest first, with their figures',
  params: S.AppParams,
  responses: { 200: json('The codes', S.QrCodeList), 400: invalid, 404: unknownApp },
} satisfies OperationSpec;

export const qrCodeImage = {
  operationId: 'qrCodeImage',
  method: 'get',
  path: '/apps/{appId}/qrcodes/{scene}/image',
  tag: 'campaigns',
  summary: 'The QR code of a campaign as an image, rendered locally from its URL',
  params: S.SceneParams,
  query: S.QrImageQuery,
  responses: {
    200: { description: 'The image', contentTypes: ['image/png', 'image/svg+xml'] },
    400: invalid,
    404: problem('No code was created for this scene'),
  },
} satisfies OperationSpec;

export const campaignStats = {
  operationId: 'campaignStats',
  method: 'get',
  path: '/apps/{appId}/campaigns/{scene}/stats',
  tag: 'campaigns',
  summary: 'What one QR scene achieved, in total and per day',
  description:
    'From the live attribution read model, or with `snapshot` from the model as it stood at an ' +
    'earlier time (see listSnapshots).',
  params: S.SceneParams,
  query: S.CampaignStatsQuery,
  responses: {
    200: json('The attribution read model’s figures', S.CampaignStats),
    400: invalid,
    404: problem('The snapshot does not exist (or is not of the qr-attribution read model)'),
  },
} satisfies OperationSpec;

export const listSnapshots = {
  operationId: 'listSnapshots',
  method: 'get',
  path: '/snapshots',
  tag: 'read models',
  summary: 'The read-model snapshots point-in-time replays built, newest first',
  params: S.NoParams,
  responses: { 200: json('The snapshots', S.SnapshotList) },
} satisfies OperationSpec;

export const deleteSnapshot = {
  operationId: 'deleteSnapshot',
  method: 'delete',
  path: '/snapshots/{snapshotId}',
  tag: 'read models',
  summary: 'Drop a snapshot and its collections',
  params: S.SnapshotParams,
  responses: { 204: { description: 'Dropped' }, 400: invalid, 404: problem('No such snapshot') },
} satisfies OperationSpec;

export const campaignFunnel = {
  operationId: 'campaignFunnel',
  method: 'get',
  path: '/apps/{appId}/campaigns/{scene}/funnel',
  tag: 'campaigns',
  summary: 'What became of one QR scene’s scans and follows, per cohort day',
  description:
    'Scans, new and returning follows, engagement within 24 hours and unfollows within 7 and 30 days, each ' +
    'counted on the China-time day of the scan or follow it belongs to, so that a day’s row is that day’s ' +
    `cohort. At most ${S.MAX_FUNNEL_DAYS} days at a time; quiet days are zeros.`,
  params: S.SceneParams,
  query: S.FunnelQuery,
  responses: { 200: json('The attribution read model’s funnel', S.CampaignFunnel), 400: invalid },
} satisfies OperationSpec;

export const publishMenu = {
  operationId: 'publishMenu',
  method: 'put',
  path: '/apps/{appId}/menu',
  tag: 'menu',
  summary: 'Publish the custom menu (menu/create)',
  description:
    'Checks the menu against WeChat’s rules (1 to 3 buttons, up to 5 sub-buttons, name lengths, the ' +
    'fields each type needs) before the call, then records a wechat.admin.menu.published event.',
  params: S.AppParams,
  body: S.Menu,
  responses: {
    200: json('WeChat accepted the menu', S.MenuPublishedView),
    400: invalid,
    404: unknownApp,
    502: wechatRefused,
    503: wechatUnreachable,
  },
} satisfies OperationSpec;

export const getMenu = {
  operationId: 'getMenu',
  method: 'get',
  path: '/apps/{appId}/menu',
  tag: 'menu',
  summary: 'The custom menu WeChat has now (menu/get)',
  params: S.AppParams,
  responses: {
    200: json('The menu', S.MenuView),
    400: invalid,
    404: problem('The account is unknown or has no menu'),
    502: wechatRefused,
    503: wechatUnreachable,
  },
} satisfies OperationSpec;

export const deleteMenu = {
  operationId: 'deleteMenu',
  method: 'delete',
  path: '/apps/{appId}/menu',
  tag: 'menu',
  summary: 'Remove the custom menu (menu/delete)',
  params: S.AppParams,
  responses: {
    204: { description: 'Removed' },
    400: invalid,
    404: unknownApp,
    502: wechatRefused,
    503: wechatUnreachable,
  },
} satisfies OperationSpec;

export const setReplies = {
  operationId: 'setReplies',
  method: 'put',
  path: '/apps/{appId}/replies',
  tag: 'replies',
  summary: 'Set the replies to menu clicks, follows and scans per QR scene, and text messages by keyword',
  description:
    'Replaces all rules of the account. Accepted rules become a wechat.admin.reply_rules.set event; the ' +
    'gateway answers with them within a second (accounts with replyChannel "passive") and the menu ' +
    'responder applies them (the others), so GET shows them a moment later. Each message is checked as ' +
    'WeChat takes it (required fields, sizes, one article per news); for an account that replies inside ' +
    'the answer, mpnews and mini program cards, which WeChat takes only through the customer-service ' +
    'API, are refused. A reply goes to the user who acted: a message with `touser` is refused.',
  params: S.AppParams,
  body: S.ReplyRulesRequest,
  responses: {
    202: json('Accepted', S.ReplyRulesAccepted),
    400: invalid,
    404: unknownApp,
    503: problem('The broker did not take the rules (`not_recorded`): none changed; ask again'),
  },
} satisfies OperationSpec;

export const getReplies = {
  operationId: 'getReplies',
  method: 'get',
  path: '/apps/{appId}/replies',
  tag: 'replies',
  summary: 'The reply rules in effect',
  params: S.AppParams,
  responses: { 200: json('The rules', S.ReplyRulesView), 400: invalid },
} satisfies OperationSpec;

export const listSubscribers = {
  operationId: 'listSubscribers',
  method: 'get',
  path: '/apps/{appId}/subscribers',
  tag: 'subscribers',
  summary: 'The followers, newest first, a page at a time, optionally only those a QR scene brought',
  params: S.AppParams,
  query: S.SubscriberQuery,
  responses: { 200: json('One page', S.SubscriberPage), 400: invalid },
} satisfies OperationSpec;

export const getSubscriber = {
  operationId: 'getSubscriber',
  method: 'get',
  path: '/apps/{appId}/subscribers/{openId}',
  tag: 'subscribers',
  summary: 'One follower',
  params: S.OpenIdParams,
  responses: {
    200: json('The follower', S.Subscriber),
    400: invalid,
    404: problem('The user does not follow the account (or left, or was erased: nothing is kept)'),
  },
} satisfies OperationSpec;

export const followerStats = {
  operationId: 'followerStats',
  method: 'get',
  path: '/apps/{appId}/follower-stats',
  tag: 'subscribers',
  summary: 'Follows and unfollows, in total and per day (China time)',
  params: S.AppParams,
  responses: { 200: json('The figures', S.FollowerStats), 400: invalid },
} satisfies OperationSpec;

export const eraseUser = {
  operationId: 'eraseUser',
  method: 'delete',
  path: '/apps/{appId}/users/{openId}',
  tag: 'privacy',
  summary: 'Erase a user (PIPL, GDPR art. 17): destroy their data keys and announce it',
  description:
    'Destroys every data key of the user, so that nothing of theirs on any topic, dead-letter topic or ' +
    'copy of the log can be read any more, then publishes wechat.user.erased (their pseudonym only) on ' +
    'the events topic; the read models drop the openId when they read it, and count the follower still. ' +
    'Asking again is harmless. The answer never repeats the openId.',
  params: S.UserParams,
  responses: {
    202: json('The keys are destroyed; the read models follow shortly', S.ErasureAccepted),
    400: invalid,
    404: unknownApp,
    503: problem('The keys are destroyed but the erasure could not be announced yet; ask again'),
  },
} satisfies OperationSpec;

/** Every route under /api, in the order the document lists them. */
export const apiOperations: readonly OperationSpec[] = [
  listApps,
  createQrCode,
  listQrCodes,
  qrCodeImage,
  campaignStats,
  campaignFunnel,
  listSnapshots,
  deleteSnapshot,
  publishMenu,
  getMenu,
  deleteMenu,
  setReplies,
  getReplies,
  listSubscribers,
  getSubscriber,
  followerStats,
  eraseUser,
];

export const unauthorized = problem('No valid bearer token');
export const throttled = problem(
  'Too many failed authentications from this address; Retry-After says when to try again',
);
