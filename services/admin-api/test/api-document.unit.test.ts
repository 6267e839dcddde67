import type { TSchema } from '@sinclair/typebox';
import { readFileSync } from 'node:fs';
import { adminOperations } from '../src/app';
import { apiOperations } from '../src/api-operations';
import { QrCodeRequest, ReplyRulesRequest, SubscriberQuery, UserParams } from '../src/api-schemas';
import { daysBetween } from '../src/campaign-routes';
import { openApiDocument, openApiYaml } from '../src/openapi';
import { openApiFile } from '../src/openapi-file';
import { MAX_PROBLEMS_TOLD, problemsAgainst } from '../src/operation';

describe('the OpenAPI document', () => {
  it('in the repository is the one the declarations give (npm run schemas rewrites it)', () => {
    expect(readFileSync(openApiFile, 'utf8')).toBe(openApiYaml());
  });

  it('describes exactly the operations the app mounts', () => {
    const mounted = adminOperations({
      mongo: { db: { collection: () => ({}) } },
      privacyKey: 'unit-test-privacy-key',
      accounts: new Map(),
    } as never).map((o) => o.spec);
    expect(mounted.map((s) => s.operationId).sort()).toEqual(apiOperations.map((s) => s.operationId).sort());
    expect(new Set(mounted)).toEqual(new Set(apiOperations));
  });

  it('lists every route with its parameters, a 401 and a documented answer', () => {
    const paths = openApiDocument().paths as Record<string, Record<string, Record<string, unknown>>>;
    for (const spec of apiOperations) {
      const documented = paths[`/api${spec.path}`]?.[spec.method];
      expect(documented).toBeDefined();
      expect(Object.keys(documented?.responses as object)).toContain('401');
      const names = (documented?.parameters as { name: string; in: string }[]).filter((p) => p.in === 'path');
      expect(names.map((p) => p.name)).toEqual([...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
    }
  });
});

describe('path and query parameters', () => {
  it('are bounded: every integer has a maximum, every text a maximum length or a pattern', () => {
    const unbounded = apiOperations.flatMap((spec) =>
      [spec.params, spec.query].flatMap((schema) =>
        Object.entries(schema?.properties ?? {})
          .flatMap(([name, property]) => {
            const variants = ((property as TSchema).anyOf ?? [property]) as TSchema[];
            return variants.map((variant) => [name, variant] as const);
          })
          .filter(
            ([, s]) =>
              (s.type === 'integer' && typeof s.maximum !== 'number') ||
              (s.type === 'string' &&
                s.const === undefined &&
                typeof s.maxLength !== 'number' &&
                typeof s.pattern !== 'string'),
          )
          .map(([name]) => `${spec.operationId} ${name}`),
      ),
    );
    expect(unbounded).toEqual([]);
  });
});

describe('input problems', () => {
  it('name the field and what it needs', () => {
    expect(problemsAgainst(QrCodeRequest, { kind: 'temporary', scene: 0 })).toEqual(['.scene must be >= 1']);
    expect(problemsAgainst(QrCodeRequest, { kind: 'temporary', scene: '' })).toEqual([
      '.scene must NOT have fewer than 1 characters',
    ]);
    expect(problemsAgainst(QrCodeRequest, { kind: 'later', scene: [] })).toEqual([
      '.kind must be "temporary" or "permanent"',
      '.scene must be an integer or a string',
    ]);
    expect(problemsAgainst(QrCodeRequest, { scene: 1, size: 3 })).toEqual([
      '.kind is required',
      '.size is not a known field',
    ]);
    expect(problemsAgainst(SubscriberQuery, { page: 0, pageSize: 1 })).toEqual(['.page must be >= 1']);
  });

  it('tell the first problems and how many more, however many entries a body has wrong', () => {
    // 10,000 bad replies in a body under the size limit: each a union of message kinds.
    const menu = Object.fromEntries(Array.from({ length: 10_000 }, (_, n) => [`K${n}`, { msgtype: 'x' }]));
    const problems = problemsAgainst(ReplyRulesRequest, { menu });
    expect(problems).toHaveLength(MAX_PROBLEMS_TOLD + 1);
    expect(problems[0]).toMatch(/^\.menu\.K0\./);
    expect(problems.at(-1)).toMatch(/^and \d+ more$/);
  });

  it('repeat a name the caller chose only when it is a plain word', () => {
    expect(problemsAgainst(QrCodeRequest, { kind: 'temporary', scene: 1, tagg: 'x' })).toEqual([
      '.tagg is not a known field',
    ]);
    for (const name of ['<b>x</b>', 'a b', 'x'.repeat(65), 'ö', 'a/b'])
      expect(problemsAgainst(QrCodeRequest, { kind: 'temporary', scene: 1, [name]: 1 })).toEqual([
        '.(a name of other characters) is not a known field',
      ]);
    const menu = { 'K<script>': { msgtype: 'x' } };
    const problems = problemsAgainst(ReplyRulesRequest, { menu });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join(' ')).not.toContain('<script>');
  });

  it('accept an openId as WeChat makes them, and nothing else, without repeating it', () => {
    expect(problemsAgainst(UserParams, { appId: 'wxapp', openId: 'oAbc-_0123456789abcdefghijklm' })).toEqual(
      [],
    );
    for (const openId of ['', 'o'.repeat(65), 'o b', 'o/../x', 'o\u0000', 'o%2F', '<script>', 'ö']) {
      const problems = problemsAgainst(UserParams, { appId: 'wxapp', openId });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^\.openId /);
      if (openId.length > 2) expect(problems[0]).not.toContain(openId);
    }
  });
});

describe('campaign days', () => {
  it('run from the first to the last day, across month ends', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
    expect(daysBetween('2026-05-01', '2026-05-01')).toEqual(['2026-05-01']);
  });
});
