import type { AdminEvent } from '@wxp/contracts';
import { campaignProjection } from '../src/campaign-projection';
import { projectionSpec } from '../../../test/support/projection-spec';

const created = (scene: string, ticket: string, createdAt: string, extra: object = {}) =>
  ({
    type: 'wechat.admin.campaign.created',
    id: ticket,
    data: {
      appId: 'wx1',
      scene,
      kind: 'temporary',
      ticket,
      url: `http://we.qq.com/q/${ticket}`,
      createdAt,
      ...extra,
    },
  }) as unknown as AdminEvent;

describe('campaigns', () => {
  it('keep the newest code of a scene and when its first code was made', () => {
    projectionSpec(campaignProjection)
      .given(
        created('7', 'T1', '2026-11-01T00:00:00.000Z', {
          name: 'Fair',
          expiresAt: '2026-11-02T00:00:00.000Z',
        }),
      )
      .when(created('7', 'T2', '2026-11-03T00:00:00.000Z', { sceneId: 7 }))
      .then((docs) =>
        expect(docs.get('wx1\n7')).toEqual({
          _id: 'wx1\n7',
          appId: 'wx1',
          scene: '7',
          sceneId: 7,
          kind: 'temporary',
          ticket: 'T2',
          url: 'http://we.qq.com/q/T2',
          firstCreatedAt: new Date('2026-11-01T00:00:00.000Z'),
          createdAt: new Date('2026-11-03T00:00:00.000Z'),
          position: expect.any(Number),
        }),
      );
  });

  it('ignore the other admin events', () => {
    projectionSpec(campaignProjection)
      .given()
      .when({ type: 'wechat.admin.menu.deleted', id: 'm', data: { appId: 'wx1' } } as AdminEvent)
      .then((docs) => expect(docs.size).toBe(0));
  });
});
