import { userKey, type ProfileEvent } from '@wxp/contracts';
import { profileProjection } from '../src/profile-projection';
import { profileErased, profileFetchFailed, profileFetched } from '../src/profile-events';
import { projectionSpec } from '../../../test/support/projection-spec';

const key = 'unit-test-privacy-key';
const appId = 'wx1';
const at = (event: ProfileEvent, seconds: number) =>
  ({ ...event, data: { ...event.data, at: seconds } }) as ProfileEvent;
const fetched = (seconds: number, extra: Record<string, unknown> = {}) =>
  at(
    profileFetched(
      appId,
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
const spec = projectionSpec(profileProjection(key));
const id = userKey(key, appId, 'o1');

describe('profiles', () => {
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
      .when(at(profileFetchFailed(appId, 'o1', 'e1', 45009, 'quota'), 100))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'failed', errcode: 45009 }));
    spec
      .given(fetched(100))
      .when(at(profileFetchFailed(appId, 'o1', 'e2', 45009, 'quota'), 200))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'known' }));
  });

  it('erase everything personal, and let no older look-up bring it back', () => {
    spec
      .given(fetched(100))
      .when(profileErased(appId, 'o1', 'e9', 200), fetched(150))
      .then((docs) => {
        const doc = docs.get(id);
        expect(doc).toMatchObject({ state: 'erased' });
        expect(JSON.stringify(doc)).not.toMatch(/o1|u1/);
      });
    spec
      .given(fetched(100), profileErased(appId, 'o1', 'e9', 200))
      .when(fetched(300))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'known' }));
  });

  it('treat a user/info answer of "not following" as an erasure', () => {
    spec
      .given(fetched(100))
      .when(fetched(200, { subscribe: 0 }))
      .then((docs) => expect(docs.get(id)).toMatchObject({ state: 'erased' }));
  });
});
