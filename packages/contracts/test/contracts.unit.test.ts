import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import {
  EnvelopeError,
  type asyncApiDocument,
  asyncApiYaml,
  Topics,
  canonicalEventId,
  compatibilityProblems,
  deadLetterTopicOf,
  parseEnvelope,
  readPublishedSchema,
  schemaDocument,
  schemaProblems,
  topicCatalogue,
  allEventDefinitions,
  documentedPushesOf,
  kfSessionDefinitions,
  LocationReported,
  receiptDefinitions,
  sealedPropertiesOf,
  typedUserPushDefinitions,
} from '@wxp/contracts';

describe('published schemas', () => {
  it.each(allEventDefinitions.map((d) => [d.type, d] as const))(
    '%s is published and unchanged (run `npm run schemas` after a compatible change)',
    (_type, definition) => {
      const published = readPublishedSchema(definition);
      expect(published).toBeDefined();
      expect(compatibilityProblems(published, schemaDocument(definition))).toEqual([]);
      expect(schemaDocument(definition)).toEqual(published);
    },
  );
});

describe('version 2 of the events and profiles', () => {
  const moved = allEventDefinitions.filter((d) => d.version === 2);

  it('covers the types of the sealed topics, and the erasure is a type of its own', () => {
    expect(moved.map((d) => d.type)).toEqual(
      expect.arrayContaining(['wechat.user.subscribed', 'wechat.message.received', 'wechat.profile.fetched']),
    );
    const erased = allEventDefinitions.find((d) => d.type === 'wechat.user.erased');
    expect(erased).toMatchObject({ version: 1, topic: Topics.events });
    expect(Object.keys((erased?.schema as unknown as { properties: object }).properties).sort()).toEqual([
      'appId',
      'requestedAt',
    ]);
  });

  it.each(moved.map((d) => [d.type, d] as const))(
    '%s keeps its version 1 schema, which the legacy topic still holds, and the same shape',
    (_type, definition) => {
      const legacy = readPublishedSchema({ ...definition, version: 1 });
      expect(legacy).toBeDefined();
      expect(legacy?.['x-version']).toBe(1);
      // Same shape: a reader of version 1 reads an opened version 2 event.
      expect(compatibilityProblems(legacy, schemaDocument(definition))).toEqual([]);
    },
  );
});

describe('schema compatibility', () => {
  const v1 = {
    type: 'object',
    required: ['a'],
    properties: { a: { type: 'string', maxLength: 64 }, b: { type: 'integer' } },
  };

  it('accepts a new optional field', () => {
    expect(
      compatibilityProblems(v1, { ...v1, properties: { ...v1.properties, c: { type: 'string' } } }),
    ).toEqual([]);
  });

  it('refuses removing a field, retyping one, requiring one, or narrowing a value', () => {
    expect(compatibilityProblems(v1, { ...v1, properties: { a: v1.properties.a } })).toEqual([
      '/: b was removed',
    ]);
    expect(
      compatibilityProblems(v1, { ...v1, properties: { ...v1.properties, b: { type: 'string' } } }),
    ).toEqual(['/b: type changed from "integer" to "string"']);
    expect(compatibilityProblems(v1, { ...v1, required: ['a', 'b'] })).toEqual(['/: b became required']);
    expect(
      compatibilityProblems(v1, {
        ...v1,
        properties: { ...v1.properties, a: { type: 'string', maxLength: 10 } },
      }),
    ).toEqual(['/a: maxLength narrowed from 64 to 10']);
  });
});

describe('event ids', () => {
  const push = {
    appId: 'wx1',
    fromUserName: 'o1',
    createTime: '1700000000',
    msgType: 'event',
    event: 'subscribe',
    eventKey: 'qrscene_1',
  };

  it('are the same for a retried push', () => {
    expect(canonicalEventId(push)).toBe(canonicalEventId({ ...push }));
    expect(canonicalEventId(push)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('differ for different pushes in the same second', () => {
    const ids = new Set([
      canonicalEventId(push),
      canonicalEventId({ ...push, eventKey: 'qrscene_2' }),
      canonicalEventId({ ...push, event: 'SCAN' }),
      canonicalEventId({ ...push, appId: 'wx2' }),
      canonicalEventId({ ...push, msgType: 'text', event: undefined, eventKey: undefined, msgId: '1' }),
      canonicalEventId({ ...push, msgType: 'text', event: undefined, eventKey: undefined, msgId: '2' }),
    ]);
    expect(ids.size).toBe(6);
  });

  it('cannot be forged by moving text between fields', () => {
    expect(canonicalEventId({ ...push, event: 'a', eventKey: 'b' })).not.toBe(
      canonicalEventId({ ...push, event: 'ab', eventKey: '' }),
    );
  });
});

describe('envelopes', () => {
  const valid = {
    specversion: '1.0',
    id: 'x',
    source: '/wechat/wx1',
    type: 'wechat.user.unsubscribed',
    time: '2024-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    dataschema: 'urn:wxp:schema:wechat.user.unsubscribed:v1',
    data: { appId: 'wx1', openId: 'o1', accountId: 'gh_1', createTime: 1, fields: {} },
  };

  it('parse a structured-mode CloudEvent', () => {
    expect(parseEnvelope(JSON.stringify(valid)).type).toBe('wechat.user.unsubscribed');
    expect(schemaProblems(valid.type, valid.data)).toEqual([]);
  });

  it('name what is wrong', () => {
    expect(() => parseEnvelope('{')).toThrow(EnvelopeError);
    // Never what the value held: the reason goes into logs and dead letters' headers.
    expect(() => parseEnvelope('{"content": hello there, my address is')).toThrow(/^not JSON$/);
    expect(() => parseEnvelope(JSON.stringify({ ...valid, specversion: '0.3' }))).toThrow(/specversion/);
    expect(() => parseEnvelope(JSON.stringify({ ...valid, id: '' }))).toThrow(/id must be/);
    expect(schemaProblems(valid.type, { ...valid.data, createTime: 'soon' })).toEqual([
      '/createTime must be integer',
    ]);
  });
});

describe('topics', () => {
  it('keep the system of record forever and give every topic a dead-letter topic', () => {
    const events = topicCatalogue.find((t) => t.name === Topics.events);
    expect(events?.config['retention.ms']).toBe('-1');
    expect(events?.partitions).toBeGreaterThan(1);
    for (const name of Object.values(Topics)) {
      expect(topicCatalogue.map((t) => t.name)).toContain(deadLetterTopicOf(name));
    }
  });
});

describe('the AsyncAPI document', () => {
  const file = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml');

  it('is the one the declarations give (run `npm run schemas` after changing them)', () => {
    expect(readFileSync(file, 'utf8')).toBe(asyncApiYaml());
  });

  it('describes every topic and every event type, with schema files that exist', () => {
    const document = parse(readFileSync(file, 'utf8')) as ReturnType<typeof asyncApiDocument>;
    const addresses = Object.values(document.channels).map((c) => (c as { address: string }).address);
    expect(addresses.sort()).toEqual(topicCatalogue.map((t) => t.name).sort());
    for (const definition of allEventDefinitions) {
      const message = Object.values(document.components.messages).find((m) => m.name === definition.type);
      const ref = message?.payload.properties.data.$ref ?? '';
      expect(existsSync(join(dirname(file), ref))).toBe(true);
    }
  });
});

describe('the typed pushes', () => {
  const typed = [...typedUserPushDefinitions, ...kfSessionDefinitions, ...receiptDefinitions];
  const fixtureDir = join(dirname(require.resolve('@wxp/contracts/package.json')), 'fixtures', 'pushes');

  it.each(typed.map((d) => [d.type, d] as const))(
    "%s names the pushes it is made from and WeChat's documented example of each, in XML and JSON",
    (type, definition) => {
      const documented = documentedPushesOf[type];
      expect(documented?.fixtures.length).toBeGreaterThan(0);
      for (const fixture of documented?.fixtures ?? [])
        for (const format of ['xml', 'json'])
          expect(existsSync(join(fixtureDir, `${fixture}.${format}`))).toBe(true);
      expect(definition.version).toBe(1);
      expect(definition.topic).toBe(Topics.events);
    },
  );

  it('a sealed property is a sealed string on the topic, and says what it opens to', () => {
    const latitude = (LocationReported.schema.properties as Record<string, Record<string, unknown>>).latitude;
    expect(latitude).toMatchObject({ type: 'string', pattern: '^wxp1\\.', 'x-sealed': { type: 'number' } });
    expect(sealedPropertiesOf(LocationReported.schema)).toEqual(['latitude', 'longitude', 'precision']);
    expect(schemaProblems(LocationReported.type, { latitude: 23.1 }).join()).toMatch(
      /latitude must be string/,
    );
  });
});
