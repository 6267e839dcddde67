import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** WeChat's documented example of each push, in XML and in JSON, and what it must become. */
export interface DocumentedPush {
  /** The file name in packages/contracts/fixtures/pushes, without extension. */
  fixture: string;
  type: string;
  /** The typed fields of the event once opened (beyond appId, openId, accountId, createTime, fields). */
  data: Record<string, unknown>;
}

const fixtureDir = join(__dirname, '..', '..', 'packages', 'contracts', 'fixtures', 'pushes');

export function documentedPushBody(fixture: string, format: 'xml' | 'json'): string {
  return readFileSync(join(fixtureDir, `${fixture}.${format}`), 'utf8');
}

const media = { mediaId: 'media_id', thumbMediaId: 'thumb_media_id', msgId: '1234567890123456' };

export const documentedPushes: readonly DocumentedPush[] = [
  {
    fixture: 'image',
    type: 'wechat.image.received',
    data: { picUrl: 'this is a url', mediaId: 'media_id', msgId: '1234567890123456' },
  },
  {
    fixture: 'voice',
    type: 'wechat.voice.received',
    data: {
      mediaId: 'media_id',
      format: 'Format',
      recognition: '腾讯微信团队',
      mediaId16k: 'media_id_16k',
      msgId: '1234567890123456',
    },
  },
  { fixture: 'video', type: 'wechat.video.received', data: media },
  { fixture: 'shortvideo', type: 'wechat.shortvideo.received', data: media },
  {
    fixture: 'location',
    type: 'wechat.location.received',
    data: {
      latitude: 23.134521,
      longitude: 113.358803,
      scale: 20,
      label: '位置信息',
      msgId: '1234567890123456',
    },
  },
  {
    fixture: 'link',
    type: 'wechat.link.received',
    data: {
      title: '公众平台官网链接',
      description: '公众平台官网链接',
      url: 'url',
      msgId: '1234567890123456',
    },
  },
  {
    fixture: 'LOCATION',
    type: 'wechat.location.reported',
    data: { latitude: 23.137466, longitude: 113.352425, precision: 119.38504 },
  },
  {
    fixture: 'scancode_push',
    type: 'wechat.menu.code_scanned',
    data: { event: 'scancode_push', key: '6', scanType: 'qrcode', scanResult: '1' },
  },
  {
    fixture: 'scancode_waitmsg',
    type: 'wechat.menu.code_scanned',
    data: { event: 'scancode_waitmsg', key: '6', scanType: 'qrcode', scanResult: '2' },
  },
  {
    fixture: 'pic_sysphoto',
    type: 'wechat.menu.pictures_sent',
    data: {
      event: 'pic_sysphoto',
      key: '6',
      count: 1,
      pictures: [{ md5: '1b5f7c23b5bf75682a53e7b6d163e185' }],
    },
  },
  {
    fixture: 'pic_photo_or_album',
    type: 'wechat.menu.pictures_sent',
    data: {
      event: 'pic_photo_or_album',
      key: '6',
      count: 1,
      pictures: [{ md5: '5a75aaca956d97be686719218f275c6b' }],
    },
  },
  {
    fixture: 'pic_weixin',
    type: 'wechat.menu.pictures_sent',
    data: {
      event: 'pic_weixin',
      key: '6',
      count: 1,
      pictures: [{ md5: '5a75aaca956d97be686719218f275c6b' }],
    },
  },
  {
    fixture: 'location_select',
    type: 'wechat.menu.location_selected',
    // The label as WeChat sent it, leading space included; the empty Poiname is left out.
    data: { key: '6', latitude: 23, longitude: 113, scale: 15, label: ' 广州市海珠区客村艺苑路 106号' },
  },
  {
    fixture: 'view_miniprogram',
    type: 'wechat.menu.miniprogram_opened',
    data: { pagePath: 'pages/index/index', menuId: 'MENUID' },
  },
  {
    fixture: 'TEMPLATESENDJOBFINISH',
    type: 'wechat.template.send_finished',
    data: { msgId: '200163836', status: 'success' },
  },
  {
    fixture: 'MASSSENDJOBFINISH',
    type: 'wechat.mass.send_finished',
    data: {
      msgId: '1000001625',
      status: 'err(30003)',
      totalCount: 0,
      filterCount: 0,
      sentCount: 0,
      errorCount: 0,
      copyrightCheck: {
        checkState: 2,
        results: [1, 2].map((articleIdx) => ({
          articleIdx,
          userDeclareState: 0,
          auditState: 2,
          originalArticleUrl: `Url_${articleIdx}`,
          originalArticleType: 1,
          canReprint: 1,
          needReplaceContent: 1,
          needShowReprintSource: 1,
        })),
      },
      articleUrls: [{ articleIdx: 1, url: 'Url' }],
    },
  },
  {
    fixture: 'subscribe_msg_popup_event',
    type: 'wechat.subscription.popup_answered',
    data: {
      items: [
        { templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', status: 'accept', popupScene: 2 },
        { templateId: '9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI', status: 'reject', popupScene: 2 },
      ],
    },
  },
  {
    fixture: 'subscribe_msg_change_event',
    type: 'wechat.subscription.changed',
    data: { items: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', status: 'reject' }] },
  },
  {
    fixture: 'subscribe_msg_sent_event',
    type: 'wechat.subscription.message_sent',
    data: {
      items: [
        {
          templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc',
          msgId: '1700827132819554304',
          errorCode: 0,
          errorStatus: 'success',
        },
      ],
    },
  },
  { fixture: 'kf_create_session', type: 'wechat.kf.session_created', data: { kfAccount: 'test1@test' } },
  { fixture: 'kf_close_session', type: 'wechat.kf.session_closed', data: { kfAccount: 'test1@test' } },
  {
    fixture: 'kf_switch_session',
    type: 'wechat.kf.session_switched',
    data: { fromKfAccount: 'test1@test', toKfAccount: 'test2@test' },
  },
  {
    fixture: 'PUBLISHJOBFINISH',
    type: 'wechat.article.publish_finished',
    data: {
      publishId: '2247503051',
      status: 0,
      articleId: 'b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4',
      articles: [{ idx: 1, url: 'ARTICLE_URL' }],
      failedIdx: [],
    },
  },
  {
    fixture: 'PUBLISHJOBFINISH-failed',
    type: 'wechat.article.publish_finished',
    data: { publishId: '2247503051', status: 2, articles: [], failedIdx: [1, 2] },
  },
];
