import type { ProfileEvent } from '@wxp/contracts';
import { profileProjection } from '../src/profile-projection';
import { profileErased, profileFetchFailed, profileFetched } from '../src/profile-events';
import { projectionSpec } from '../../../test/support/projection-spec';
import { testPseudonymOf } from '../../../test/support/privacy';

const appId = 'wx1';
const id = testPseudonymOf(appId, 'o1');
const at = (event: ProfileEvent, seconds: number) =>
  ({ ...event, data: { ...event.data, at: seconds } }) as ProfileEvent;
const fetched = (seconds: number, extra: Record<string, unknown> = {}) =>
  at(
    profileFetched(
      appId,
      id,
      {
        subscribe: 1,
        openid: 'o1',
        language: 'zh_CN',
        unionid: 'u1',
        tagid_list: [2],
        qr_scene: 7,
        ...extra,
      },
      `e${seconds}`,
    ),
    seconds,
  );
const spec = projectionSpec(profileProjection());
/** As a reader opens an event whose user's key is gone. */
const openedAsErased = (event: ProfileEvent) => {
  const { unionId: _u, remark: _r, ...data } = event.data as Record<string, unknown>;
  return { ...event, data: { ...data, openId: '' } } as ProfileEvent;
};

const tagged = (seconds: number, tagId: number, type = 'wechat.profile.tagged') =>
  ({
    specversion: '1.0',
    id: `t${seconds}`,
    source: `/wechat/${appId}`,
    type,
    subject: id,
    time: new Date(seconds * 1000).toISOString(),
    datacontenttype: 'application/json',
    dataschema: `urn:wxp:schema:${type}:v1`,
    data: {
      appId,
      tagId,
      tagName: 'spring',
      scene: '7',
      causedBy: `e${seconds}`,
      at: seconds,
      errcode: 45059,
    },
  }) as ProfileEvent;

describe('profiles', () => {
  it('gain the tag a campaign gave the follower, once; a refused tagging changes nothing', () => {
    spec
      .given(fetched(100))
      .when(tagged(101, 120), tagged(102, 2), tagged(103, 130, 'wechat.profile.tagging_failed'))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'known', tags: [2, 120] }));
    spec
      .given()
      .when(tagged(101, 120))
      .then((docs) => expect(docs.has(id)).toBe(false));
  });

  it('keep what user/info said about a follower', () => {
    spec
      .given()
      .when(fetched(100))
      .then((docs) =>
        expect(docs.get(id)).toMatchObject({
          state: 'known',
          openId: 'o1',
          unionId: 'u1',
          language: 'zh_CN',
          tags: [2],
          qrScene: 7,
        }),
      );
  });

  it('keep a refusal only until a profile is known', () => {
    spec
      .given()
      .when(at(profileFetchFailed(appId, id, 'o1', 'e1', 45009, 'quota'), 100))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'failed', errcode: 45009 }));
    spec
      .given(fetched(100))
      .when(at(profileFetchFailed(appId, id, 'o1', 'e2', 45009, 'quota'), 200))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'known' }));
  });

  it('erase everything personal, and let no older look-up bring it back', () => {
    spec
      .given(fetched(100))
      .when(profileErased(appId, id, 'o1', 'e9', 200), fetched(150))
      .then((docs) => {
        const doc = docs.get(id);
        expect(doc).toMatchObject({ state: 'erased' });
        expect(JSON.stringify(doc)).not.toMatch(/o1|u1/);
      });
    spec
      .given(fetched(100), profileErased(appId, id, 'o1', 'e9', 200))
      .when(fetched(300))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'known' }));
  });

  it('treat a user/info answer of "not following" as an erasure', () => {
    spec
      .given(fetched(100))
      .when(fetched(200, { subscribe: 0 }))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'erased' }));
  });

  it('file profiles under the pseudonym the events carry as subject', () => {
    expect(profileProjection().documentId(fetched(100))).toBe(id);
    expect(profileProjection().documentId(openedAsErased(fetched(100)))).toBe(id);
  });

  it('take an erasure whose openId cannot be read any more like any other', () => {
    spec
      .given(fetched(100))
      .when(openedAsErased(profileErased(appId, id, '', 'e9', 200)))
      .then((docs) => {
        expect(docs.get(id)).toMatchObject({ state: 'erased' });
        expect(JSON.stringify(docs.get(id))).not.toMatch(/o1|u1/);
      });
  });

  it('keep nothing of a look-up whose user is erased since (read back in a replay)', () => {
    spec
      .given()
      .when(openedAsErased(fetched(100)))
      .then((docs) => expect(docs.get(id)).toBeUndefined());
    spec
      .given(fetched(100))
      .when(openedAsErased(at(profileFetchFailed(appId, id, 'o1', 'e2', 45009, 'quota'), 200)))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'known', openId: 'o1' }));
  });

  it('leave a profile as it is for a type of a newer release, a tombstone above all', () => {
    const newer = { ...tagged(300, 5), type: 'wechat.profile.merged' } as unknown as ProfileEvent;
    spec
      .given(fetched(100), profileErased(appId, id, 'o1', 'e9', 200))
      .when(newer, fetched(150))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'erased', erasedAt: new Date(200_000) }));
    spec
      .given()
      .when(newer)
      .then((docs) => expect(docs.has(id)).toBe(false));
  });
});
