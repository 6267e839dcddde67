import { CampaignCreated, type AdminEvent } from '@wxp/contracts';
import { campaignTagProjection, type CampaignTagDocument } from '../src/campaign-tags';

const campaign = (id: string, scene: string, tag?: string): AdminEvent => ({
  specversion: '1.0',
  id,
  source: '/wechat/wxapp',
  type: 'wechat.admin.campaign.created',
  time: '2026-05-01T00:00:00Z',
  datacontenttype: 'application/json',
  dataschema: CampaignCreated.dataschema,
  data: {
    appId: 'wxapp',
    scene,
    kind: 'temporary',
    ticket: 't',
    url: 'http://weixin.qq.com/q/x',
    createdAt: '2026-05-01T00:00:00Z',
    ...(tag === undefined ? {} : { tag }),
  },
});

/** Folds the events, each delivered twice, as the runner would: a position at or below the stored one is skipped. */
function project(events: AdminEvent[]): Map<string, CampaignTagDocument> {
  const documents = new Map<string, CampaignTagDocument>();
  events.forEach((event, position) => {
    for (let delivery = 0; delivery < 2; delivery++) {
      const id = campaignTagProjection.documentId(event);
      if (id === undefined) continue;
      const current = documents.get(id) ?? null;
      if (current && current.position >= position) continue;
      const next = campaignTagProjection.evolve(current, event, position);
      if (next) documents.set(id, next);
    }
  });
  return documents;
}

describe('campaign tags', () => {
  it('keeps the tag of each scene, the latest code deciding', () => {
    const documents = project([
      campaign('e1', '7', 'spring fair'),
      campaign('e2', 'autumn', 'autumn'),
      campaign('e3', 'autumn'),
      campaign('e4', '7', 'spring fair 2'),
    ]);
    expect(documents.get('wxapp\n7')).toEqual({
      _id: 'wxapp\n7',
      appId: 'wxapp',
      scene: '7',
      tag: 'spring fair 2',
      position: 3,
    });
    expect(documents.get('wxapp\nautumn')).toEqual({
      _id: 'wxapp\nautumn',
      appId: 'wxapp',
      scene: 'autumn',
      position: 2,
    });
  });

  it('ignores every other admin command', () => {
    const menuDeleted: AdminEvent = {
      ...campaign('e5', '1'),
      type: 'wechat.admin.menu.deleted',
      data: { appId: 'wxapp' },
    } as AdminEvent;
    expect(campaignTagProjection.documentId(menuDeleted)).toBeUndefined();
    expect(project([menuDeleted]).size).toBe(0);
  });
});
