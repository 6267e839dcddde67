import { Topics } from '@wxp/contracts';
import fc from 'fast-check';
import * as ops from '../src/api-operations';
import type { OperationSpec } from '../src/operation';
import { eventually, uniqueName } from '../../../test/support/infrastructure';
import { documented } from '../../../test/support/openapi-conformance';
import { startCampaignStack, type CampaignStack } from '../../../test/support/running-campaign-stack';
import { TopicReader } from '../../../test/support/topic-reader';
import { startAdmin } from '../../../test/support/running-admin';
import { freePort } from '../../../packages/devstack/src/free-port';

let stack: CampaignStack;
let adminTopic: TopicReader;
let appId: string;

beforeAll(async () => {
  // These tests send dozens of wrong tokens from one address; admin-access.int.test.ts tests the throttle.
  stack = await startCampaignStack({ authThrottle: { maxFailures: 1_000 } });
  appId = stack.account.appId;
  adminTopic = await TopicReader.start(Topics.admin);
});

afterAll(async () => {
  await adminTopic?.stop();
  await stack?.close();
});

const api = (method: string, path: string, body?: unknown, token?: string) =>
  stack.admin.request(method, path, body, token);
const message = async (response: Response, spec: OperationSpec) =>
  (await documented<{ error: string; message: string }>(response, spec)).message;
const qrCodesCreated = async () => (await stack.emulator.state(appId)).qrcodes.length;

describe('admin API: credentials', () => {
  it('answers 401 on every /api route without the bearer token or with a wrong one', async () => {
    for (const spec of ops.apiOperations) {
      const path = `/api${spec.path}`
        .replace('{appId}', appId)
        .replace('{scene}', '1')
        .replace('{openId}', 'o1');
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token' },
        { authorization: 'Basic eDp5' },
      ] as Record<string, string>[]) {
        const response = await fetch(`${stack.adminUrl}${path}`, {
          method: spec.method.toUpperCase(),
          headers,
        });
        expect([spec.operationId, response.status]).toEqual([spec.operationId, 401]);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        await documented(response, spec);
      }
    }
  });

  it('refuses a malformed appId on every route with a documented 400 naming path.appId', async () => {
    for (const spec of ops.apiOperations.filter((s) => s.path.includes('{appId}'))) {
      const path = `/api${spec.path}`
        .replace('{appId}', 'not an app id!')
        .replace('{scene}', '1')
        .replace('{openId}', 'o1');
      const response = await api(spec.method.toUpperCase(), path, spec.body ? {} : undefined);
      expect([spec.operationId, response.status]).toEqual([spec.operationId, 400]);
      expect(await message(response, spec)).toContain('path.appId');
    }
  });

  it('serves its OpenAPI document without credentials', async () => {
    const document = (await (await fetch(`${stack.adminUrl}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths)).toContain('/api/apps/{appId}/qrcodes');
    expect((await fetch(`${stack.adminUrl}/openapi.yaml`)).headers.get('content-type')).toContain('yaml');
  });
});

describe('admin API: accounts', () => {
  it('lists the configured accounts without their secrets', async () => {
    const body = await documented(await api('GET', '/api/apps'), ops.listApps);
    expect(body).toEqual({ apps: [{ appId, encryptMode: 'plain', format: 'xml' }] });
    expect(JSON.stringify(body)).not.toContain(stack.account.appSecret);
  });
});

describe('admin API: QR codes', () => {
  it('creates a temporary code, records the campaign on wechat.admin.v1 and lists it', async () => {
    const response = await api('POST', `/api/apps/${appId}/qrcodes`, {
      kind: 'temporary',
      scene: 4201,
      expireSeconds: 3600,
      name: 'Spring fair',
    });
    expect(response.status).toBe(201);
    const created = await documented(response, ops.createQrCode);
    expect(created).toMatchObject({
      appId,
      scene: 4201,
      kind: 'temporary',
      name: 'Spring fair',
      expireSeconds: 3600,
      imageUrl: `/api/apps/${appId}/qrcodes/4201/image`,
    });
    expect(response.headers.get('location')).toBe(created.imageUrl);
    const expiresIn = Date.parse(created.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(3590_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    expect((await stack.emulator.state(appId)).qrcodes).toContainEqual(
      expect.objectContaining({ ticket: created.ticket, sceneId: 4201 }),
    );

    const event = await eventually(async () => {
      const found = adminTopic.of(appId).find((e) => e.event.id === created.event);
      expect(found).toBeDefined();
      return found!;
    });
    expect(event.key).toBe(appId);
    expect(event.event).toMatchObject({
      type: 'wechat.admin.campaign.created',
      data: {
        appId,
        scene: '4201',
        sceneId: 4201,
        kind: 'temporary',
        ticket: created.ticket,
        url: created.url,
        actor: 'admin-token',
      },
    });
    expect(JSON.stringify(event.event)).not.toContain(stack.adminToken);

    const listed = await eventually(async () => {
      const body = await documented<{ qrcodes: { scene: string }[] }>(
        await api('GET', `/api/apps/${appId}/qrcodes`),
        ops.listQrCodes,
      );
      expect(body.qrcodes.map((q) => q.scene)).toContain('4201');
      return body;
    });
    expect(listed.qrcodes.find((q) => q.scene === '4201')).toMatchObject({
      name: 'Spring fair',
      kind: 'temporary',
      expired: false,
      stats: { scans: 0, subscribes: 0, returning: 0, unsubscribes: 0 },
    });
  });

  it('creates a permanent code with a text scene', async () => {
    const response = await api('POST', `/api/apps/${appId}/qrcodes`, {
      kind: 'permanent',
      scene: 'poster-A',
    });
    expect(response.status).toBe(201);
    const created = await documented(response, ops.createQrCode);
    expect(created).toMatchObject({ scene: 'poster-A', kind: 'permanent' });
    expect(created.expiresAt).toBeUndefined();
  });

  it('records a campaign’s tag with its code and lists it', async () => {
    const tag = '春'.repeat(30);
    const response = await api('POST', `/api/apps/${appId}/qrcodes`, {
      kind: 'permanent',
      scene: 'tagged-poster',
      tag,
    });
    expect(response.status).toBe(201);
    const created = await documented(response, ops.createQrCode);
    expect(created).toMatchObject({ scene: 'tagged-poster', tag });
    const event = await eventually(async () => {
      const found = adminTopic.of(appId).find((e) => e.event.id === created.event);
      expect(found).toBeDefined();
      return found!;
    });
    expect(event.event.data).toMatchObject({ scene: 'tagged-poster', tag });
    await eventually(async () => {
      const body = await documented<{ qrcodes: { scene: string; tag?: string }[] }>(
        await api('GET', `/api/apps/${appId}/qrcodes`),
        ops.listQrCodes,
      );
      expect(body.qrcodes.find((q) => q.scene === 'tagged-poster')).toMatchObject({ tag });
    });
  });

  it.each([
    [{ kind: 'temporary', scene: 0 }, 'body.scene'],
    [{ kind: 'temporary', scene: 1.5 }, 'body.scene'],
    [{ kind: 'temporary', scene: 'x'.repeat(65) }, 'body.scene'],
    [{ kind: 'temporary', scene: true }, 'body.scene must be an integer or a string'],
    [{ kind: 'permanent', scene: 100001 }, 'scene must be an integer from 1 to 100000'],
    [{ kind: 'permanent', scene: 7, expireSeconds: 60 }, 'expireSeconds applies to temporary codes only'],
    [{ kind: 'temporary', scene: 7, expireSeconds: 0 }, 'body.expireSeconds'],
    [{ kind: 'temporary', scene: 7, expireSeconds: 2592001 }, 'body.expireSeconds'],
    [{ scene: 7 }, 'body.kind is required'],
    [{ kind: 'forever', scene: 7 }, 'body.kind must be "temporary" or "permanent"'],
    [{ kind: 'temporary', scene: 7, colour: 'red' }, 'body.colour is not a known field'],
    [{ kind: 'temporary', scene: 7, tag: 'x'.repeat(31) }, 'body.tag'],
    [{ kind: 'temporary', scene: 7, tag: '' }, 'body.tag'],
    [{ kind: 'temporary', scene: 7, tag: 5 }, 'body.tag'],
  ])('refuses %j with a 400 naming the field, without calling WeChat', async (body, expected) => {
    const before = await qrCodesCreated();
    const response = await api('POST', `/api/apps/${appId}/qrcodes`, body);
    expect(response.status).toBe(400);
    expect(await message(response, ops.createQrCode)).toContain(expected);
    expect(await qrCodesCreated()).toBe(before);
  });

  it('refuses a body that is not JSON, and unknown accounts', async () => {
    const notJson = await fetch(`${stack.adminUrl}/api/apps/${appId}/qrcodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: '{"kind":',
    });
    expect(notJson.status).toBe(400);
    const unknown = await api('POST', '/api/apps/wxnobody/qrcodes', { kind: 'temporary', scene: 1 });
    expect(unknown.status).toBe(404);
    expect(await message(unknown, ops.createQrCode)).toBe('the appId is not one of the configured accounts');
  });

  it('answers 502 with WeChat’s errcode when WeChat refuses', async () => {
    await stack.emulator.control('faults', { appId, api: 'qrcode/create', errcode: 45029 });
    const response = await api('POST', `/api/apps/${appId}/qrcodes`, { kind: 'permanent', scene: 99 });
    expect(response.status).toBe(502);
    expect(await message(response, ops.createQrCode)).toContain('45029');
  });

  it('answers a documented 503 on every route that calls WeChat when WeChat does not answer, and records nothing', async () => {
    // An admin API whose WeChat is a port nobody listens on.
    const silent = await startAdmin(
      stack.mongo,
      { adminToken: stack.adminToken, privacyKey: stack.privacyKey },
      { accounts: [stack.account], wechatApiBase: `http://127.0.0.1:${await freePort()}` },
    );
    try {
      const before = adminTopic.events.length;
      const calls: [OperationSpec, string, unknown?][] = [
        [ops.createQrCode, 'POST', { kind: 'permanent', scene: 98 }],
        [ops.publishMenu, 'PUT', { button: [{ type: 'click', name: 'Unheard', key: 'UNHEARD_98' }] }],
        [ops.getMenu, 'GET'],
        [ops.deleteMenu, 'DELETE'],
      ];
      for (const [spec, method, body] of calls) {
        const response = await silent.request(method, `/api${spec.path.replace('{appId}', appId)}`, body);
        expect([spec.operationId, response.status]).toEqual([spec.operationId, 503]);
        expect(await documented(response, spec)).toMatchObject({ error: 'wechat_unreachable' });
      }
      const recorded = adminTopic.events.slice(before).map((e) => JSON.stringify(e.event));
      expect(recorded.filter((e) => e.includes('"scene":98') || e.includes('UNHEARD_98'))).toEqual([]);
    } finally {
      await silent.close();
    }
  });

  it('renders the image as PNG or SVG from the code’s URL, for viewing or download', async () => {
    await api('POST', `/api/apps/${appId}/qrcodes`, { kind: 'temporary', scene: 4202, expireSeconds: 600 });
    const png = await eventually(async () => {
      const response = await api('GET', `/api/apps/${appId}/qrcodes/4202/image`);
      expect(response.status).toBe(200);
      return response;
    });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toMatch(/^inline; filename="qrcode-.*-4202\.png"$/);
    expect(Buffer.from(await png.arrayBuffer()).subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );

    const svg = await api('GET', `/api/apps/${appId}/qrcodes/4202/image?format=svg&download=true`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('content-disposition')).toMatch(/^attachment; filename=".*\.svg"$/);
    expect(await documented(svg, ops.qrCodeImage)).toContain('<svg');

    const bad = await api('GET', `/api/apps/${appId}/qrcodes/4202/image?format=gif`);
    expect(bad.status).toBe(400);
    expect(await message(bad, ops.qrCodeImage)).toContain('query.format');
    const tiny = await api('GET', `/api/apps/${appId}/qrcodes/4202/image?size=3`);
    expect(await message(tiny, ops.qrCodeImage)).toContain('query.size');
    const missing = await api('GET', `/api/apps/${appId}/qrcodes/nope/image`);
    expect(missing.status).toBe(404);
    await documented(missing, ops.qrCodeImage);
  });
});

describe('admin API: campaign figures and subscribers', () => {
  it('counts scans and follows per campaign and day, and pages the followers it brought', async () => {
    const created = await documented(
      await api('POST', `/api/apps/${appId}/qrcodes`, { kind: 'temporary', scene: 4203, expireSeconds: 600 }),
      ops.createQrCode,
    );
    const ticket = created.ticket as string;
    const users = ['ann', 'ben', 'cai'].map((name) => uniqueName(name));
    for (const user of users)
      expect((await stack.simulate(user, { action: 'scan', ticket })).delivered).toBe(true);
    await stack.simulate(users[0] as string, { action: 'scan', ticket });
    const loner = await stack.simulate(uniqueName('dan'), { action: 'follow' });

    const stats = await eventually(async () => {
      const body = await documented(
        await api('GET', `/api/apps/${appId}/campaigns/4203/stats`),
        ops.campaignStats,
      );
      expect(body).toMatchObject({ scans: 1, subscribes: 3, unsubscribes: 0 });
      return body;
    }, 15_000);
    expect(stats.days).toHaveLength(1);

    await eventually(async () => {
      const listed = await documented<{ qrcodes: { scene: string; stats: object }[] }>(
        await api('GET', `/api/apps/${appId}/qrcodes`),
        ops.listQrCodes,
      );
      expect(listed.qrcodes.find((q) => q.scene === '4203')?.stats).toEqual({
        scans: 1,
        subscribes: 3,
        returning: 0,
        unsubscribes: 0,
      });
    });

    const page = async (query: string) =>
      documented<{ total: number; subscribers: { openId: string; scene: string | null }[] }>(
        await api('GET', `/api/apps/${appId}/subscribers?${query}`),
        ops.listSubscribers,
      );
    await eventually(async () => expect((await page('scene=4203')).total).toBe(3));
    const first = await page('scene=4203&pageSize=2');
    const second = await page('scene=4203&pageSize=2&page=2');
    expect(first.subscribers).toHaveLength(2);
    expect(second.subscribers).toHaveLength(1);
    const everyone = [...first.subscribers, ...second.subscribers];
    expect(new Set(everyone.map((s) => s.openId)).size).toBe(3);
    expect(everyone.every((s) => s.scene === '4203')).toBe(true);
    expect((await page('pageSize=200')).subscribers.map((s) => s.openId)).toContain(loner.openId);

    const one = await documented(
      await api('GET', `/api/apps/${appId}/subscribers/${everyone[0]?.openId}`),
      ops.getSubscriber,
    );
    expect(one).toMatchObject({ subscribed: true, scene: '4203', sceneId: 4203 });
    const stranger = await api('GET', `/api/apps/${appId}/subscribers/o-stranger`);
    expect(stranger.status).toBe(404);
    await documented(stranger, ops.getSubscriber);

    const followers = await documented(
      await api('GET', `/api/apps/${appId}/follower-stats`),
      ops.followerStats,
    );
    expect(followers.followers).toBeGreaterThanOrEqual(4);

    for (const [query, field] of [
      ['pageSize=0', 'query.pageSize'],
      ['pageSize=201', 'query.pageSize'],
      ['page=zero', 'query.page'],
      ['page=99999999999999999999', 'query.page must be <= 10000'],
      ['page=10001', 'query.page must be <= 10000'],
    ]) {
      const bad = await api('GET', `/api/apps/${appId}/subscribers?${query}`);
      expect(bad.status).toBe(400);
      expect(await message(bad, ops.listSubscribers)).toContain(field);
    }
  });

  it('refuses malformed path parameters with a 400', async () => {
    const bad = await api('GET', `/api/apps/${'x'.repeat(65)}/campaigns/1/stats`);
    expect(bad.status).toBe(400);
    expect(await message(bad, ops.campaignStats)).toContain('path.appId');
  });
});

describe('admin API: menu', () => {
  const menu = {
    button: [
      { type: 'click', name: 'Today', key: 'V1001_TODAY' },
      {
        name: 'More',
        sub_button: [
          { type: 'view', name: 'Site', url: 'https://example.com/' },
          { type: 'click', name: 'Like us', key: 'V1001_GOOD' },
        ],
      },
    ],
  };

  it('publishes through menu/create, records the event, shows and deletes it', async () => {
    const published = await api('PUT', `/api/apps/${appId}/menu`, menu);
    expect(published.status).toBe(200);
    const body = await documented(published, ops.publishMenu);
    expect((await stack.emulator.state(appId)).menu).toMatchObject(menu);
    await eventually(async () =>
      expect(adminTopic.of(appId).find((e) => e.event.id === body.event)?.event).toMatchObject({
        type: 'wechat.admin.menu.published',
        data: { appId, menu },
      }),
    );

    const shown = await documented(await api('GET', `/api/apps/${appId}/menu`), ops.getMenu);
    expect(shown).toMatchObject({ appId, menu: { button: [{ name: 'Today' }, { name: 'More' }] } });

    const deleted = await api('DELETE', `/api/apps/${appId}/menu`);
    expect(deleted.status).toBe(204);
    await documented(deleted, ops.deleteMenu);
    await eventually(async () =>
      expect(adminTopic.of(appId).map((e) => e.event.type)).toContain('wechat.admin.menu.deleted'),
    );
    const none = await api('GET', `/api/apps/${appId}/menu`);
    expect(none.status).toBe(404);
    expect(await message(none, ops.getMenu)).toContain('no menu');
  });

  it.each([
    [{ button: [] }, 'button has 0 buttons'],
    [{ button: [1, 2, 3, 4].map((i) => ({ type: 'click', name: `b${i}`, key: `k${i}` })) }, 'button has 4'],
    [{ button: [{ type: 'click', name: 'x'.repeat(17), key: 'k' }] }, 'button[0].name is 17 bytes'],
    [{ button: [{ type: 'click', name: 'Go' }] }, 'button[0].key is required for type click'],
    [{ button: [{ type: 'teleport', name: 'Go' }] }, 'body.button[0].type'],
    [{ buttons: [] }, 'body.button is required'],
  ])('refuses %j with a 400 naming the button, without calling WeChat', async (body, expected) => {
    const before = (await stack.emulator.state(appId)).menu;
    const response = await api('PUT', `/api/apps/${appId}/menu`, body);
    expect(response.status).toBe(400);
    expect(await message(response, ops.publishMenu)).toContain(expected);
    expect((await stack.emulator.state(appId)).menu).toEqual(before);
  });

  it('wants JSON', async () => {
    const response = await fetch(`${stack.adminUrl}/api/apps/${appId}/menu`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'text/plain' },
      body: 'button',
    });
    expect(response.status).toBe(415);
  });
});

describe('admin API: replies', () => {
  it('accepts rules as an event and shows them once the responder’s projection has them', async () => {
    const rules = {
      // Keys the store would refuse as field names: a rule must be stored whatever its key.
      menu: {
        V1001_TODAY: { msgtype: 'text', text: { content: 'Today: dumplings' } },
        'promo.2026': { msgtype: 'text', text: { content: 'Spring offer' } },
        $deal: { msgtype: 'text', text: { content: 'Deal of the day' } },
      },
      welcome: { '4203': { msgtype: 'text', text: { content: 'Welcome from the fair' } } },
      scan: { default: { msgtype: 'image', image: { media_id: 'MEDIA' } } },
      keywords: {
        rules: [
          { match: 'contains', keyword: 'price', reply: { msgtype: 'text', text: { content: 'Prices' } } },
        ],
        default: { msgtype: 'text', text: { content: 'Thanks' } },
      },
    };
    const accepted = await api('PUT', `/api/apps/${appId}/replies`, rules);
    expect(accepted.status).toBe(202);
    await documented(accepted, ops.setReplies);
    await eventually(async () =>
      expect(await documented(await api('GET', `/api/apps/${appId}/replies`), ops.getReplies)).toEqual({
        appId,
        ...rules,
      }),
    );
    const bad = await api('PUT', `/api/apps/${appId}/replies`, { menu: { K: { msgtype: 'text' } } });
    expect(bad.status).toBe(400);
    expect(await message(bad, ops.setReplies)).toContain('body.menu.K');
    const extra = await api('PUT', `/api/apps/${appId}/replies`, { menus: {} });
    expect(await message(extra, ops.setReplies)).toContain('body.menus is not a known field');
  });

  it('shows rules set without scan or keywords with both empty', async () => {
    const menu = { K: { msgtype: 'text', text: { content: 'only a menu' } } };
    expect((await api('PUT', `/api/apps/${appId}/replies`, { menu })).status).toBe(202);
    await eventually(async () =>
      expect(await documented(await api('GET', `/api/apps/${appId}/replies`), ops.getReplies)).toEqual({
        appId,
        menu,
        welcome: {},
        scan: {},
        keywords: { rules: [] },
      }),
    );
  });

  it.each([
    [
      {
        keywords: {
          rules: [
            { match: 'exact', keyword: 'k', reply: { msgtype: 'text', text: { content: '字'.repeat(700) } } },
          ],
        },
      },
      'body.keywords.rules[0].reply.text.content is over 2048 bytes',
    ],
    [
      { scan: { s: { msgtype: 'news', news: { articles: [] } } } },
      'body.scan.s.news.articles must hold exactly one article',
    ],
    [
      {
        keywords: {
          rules: [{ match: 'fuzzy', keyword: 'k', reply: { msgtype: 'text', text: { content: 'x' } } }],
        },
      },
      'body.keywords.rules[0].match',
    ],
  ])('refuses a reply WeChat would refuse: %j', async (rules, expected) => {
    const refused = await api('PUT', `/api/apps/${appId}/replies`, rules);
    expect(refused.status).toBe(400);
    expect(await message(refused, ops.setReplies)).toContain(expected);
  });

  it('refuses a rule that names its recipient, so no reply can be sent to someone else', async () => {
    for (const rules of [
      { menu: { K: { msgtype: 'text', text: { content: 'hi' }, touser: 'o-someone-else' } } },
      { welcome: { default: { touser: 'o-someone-else', msgtype: 'text', text: { content: 'hi' } } } },
    ]) {
      const refused = await api('PUT', `/api/apps/${appId}/replies`, rules);
      expect(refused.status).toBe(400);
      expect(await message(refused, ops.setReplies)).toMatch(/body\.(menu\.K|welcome\.default)\.touser/);
    }
  });

  it('refuses a body nested too deep to be written out, with a 400 rather than a 500', async () => {
    // 60 000 lists deep: parsed fine, but writing it out as an event or a WeChat call overflows the stack.
    const deep = `${'['.repeat(60_000)}${']'.repeat(60_000)}`;
    for (const [spec, path, body] of [
      [ops.setReplies, 'replies', `{"menu":{"K":{"msgtype":"text","text":{"content":"x"},"x":${deep}}}}`],
      [ops.publishMenu, 'menu', `{"button":[{"type":"click","name":"a","key":"k","x":${deep}}]}`],
    ] as const) {
      const response = await fetch(`${stack.adminUrl}/api/apps/${appId}/${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
        body,
      });
      expect([spec.operationId, response.status]).toEqual([spec.operationId, 400]);
      expect(await message(response, spec)).toContain('nests deeper than 32 levels');
    }
  });
});

describe('admin API: arbitrary input', () => {
  it('answers every body with a documented status, never a 5xx', async () => {
    const anything = fc.anything({ maxDepth: 3, withNullPrototype: false });
    const shaped = fc.record(
      {
        kind: fc.oneof(fc.constantFrom('temporary', 'permanent'), anything),
        scene: fc.oneof(fc.integer({ min: -5, max: 5_000_000_000 }), fc.string({ maxLength: 70 }), anything),
        expireSeconds: fc.oneof(fc.integer(), anything),
        name: fc.oneof(fc.string({ maxLength: 210 }), anything),
        button: fc.array(fc.record({ name: fc.string(), type: fc.string(), key: fc.string() }), {
          maxLength: 4,
        }),
        menu: fc.dictionary(fc.string(), anything, { maxKeys: 2 }),
      },
      { requiredKeys: [] },
    );
    const routes = [
      [ops.createQrCode, `/api/apps/${appId}/qrcodes`, 'POST'],
      [ops.publishMenu, `/api/apps/${appId}/menu`, 'PUT'],
      [ops.setReplies, `/api/apps/${appId}/replies`, 'PUT'],
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(shaped, anything),
        async ([spec, path, method], body) => {
          const response = await api(method, path, body);
          expect(response.status).toBeLessThan(500);
          await documented(response, spec);
        },
      ),
      { numRuns: 300 },
    );
  });
});
