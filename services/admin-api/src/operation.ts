import type Router from '@koa/router';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { HttpError } from '@wxp/service-runtime';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Context } from 'koa';
import { koaBody } from 'koa-body';

export interface ResponseSpec {
  description: string;
  /** The JSON body; absent for bodies that are not JSON or for no body at all. */
  schema?: TSchema;
  /** Defaults to application/json when there is a schema. */
  contentTypes?: readonly string[];
}

/**
 * One route of the admin API as the OpenAPI document describes it. The same declaration mounts
 * the route and checks its input, so the document cannot drift from what the server does.
 */
export interface OperationSpec<
  P extends TObject = TObject,
  Q extends TObject = TObject,
  B extends TSchema = TSchema,
> {
  operationId: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI form, below /api: `/apps/{appId}/qrcodes`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params: P;
  query?: Q;
  body?: B;
  responses: Record<number, ResponseSpec>;
}

export interface OperationInput<P extends TObject, Q extends TObject, B extends TSchema> {
  params: Static<P>;
  query: Static<Q>;
  body: Static<B>;
}

export type OperationHandler<P extends TObject, Q extends TObject, B extends TSchema> = (
  ctx: Context,
  input: OperationInput<P, Q, B>,
) => Promise<void>;

/** A spec with the handler that serves it. */
export interface BoundOperation {
  spec: OperationSpec;
  handle: OperationHandler<TObject, TObject, TSchema>;
}

export function operation<P extends TObject, Q extends TObject, B extends TSchema>(
  spec: OperationSpec<P, Q, B>,
  handle: OperationHandler<P, Q, B>,
): BoundOperation {
  return { spec, handle: handle as unknown as OperationHandler<TObject, TObject, TSchema> };
}

// Paths and queries arrive as text: "2" must pass as an integer there, never in a JSON body.
const textAjv = addFormats(new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, verbose: true }));
const jsonAjv = addFormats(new Ajv({ allErrors: true, useDefaults: true, verbose: true }));
const compiled = new WeakMap<TSchema, ValidateFunction>();

function validatorFor(ajv: Ajv, schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

const typeName = (schema: unknown): string => {
  const s = schema as { type?: string; const?: unknown; enum?: unknown[] };
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'integer') return 'an integer';
  if (s.type === 'object') return 'an object';
  if (s.type === 'array') return 'a list';
  return `a ${s.type ?? 'value'}`;
};

/** Problems told in one answer; a body with thousands of bad entries is told the first ones and a count. */
export const MAX_PROBLEMS_TOLD = 20;

/**
 * A field's name as an answer may repeat it: names the caller chose (a menu key, an unknown field)
 * only when they are plain words, so that nothing else an attacker typed comes back.
 */
function nameToTell(name: string): string {
  const unescaped = name.replace(/~1/g, '/').replace(/~0/g, '~');
  return /^[A-Za-z0-9_-]{1,64}$/.test(unescaped) ? unescaped : '(a name of other characters)';
}

/** The instance path and each of its ancestors, the path itself first: `/a/0`, `/a`, ``. */
function pathAndAncestors(path: string): string[] {
  const paths = [path];
  for (let cut = path.lastIndexOf('/'); cut >= 0; cut = path.lastIndexOf('/', cut - 1)) {
    paths.push(path.slice(0, cut));
    if (cut === 0) break;
  }
  return paths;
}

/**
 * One line per problem, each naming its field the way a caller wrote it: `body.scene`,
 * `query.page`; at most MAX_PROBLEMS_TOLD, then how many more. A union's errors are found through
 * the instance paths they share with it, so the work grows with the errors, not with their square.
 */
export function describeProblems(where: string, errors: readonly ErrorObject[]): string[] {
  const field = (path: string) =>
    where +
    path
      .split('/')
      .slice(1)
      .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${nameToTell(segment)}`))
      .join('');
  const unionsAt = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    unionsAt.set(e.instancePath, [...(unionsAt.get(e.instancePath) ?? []), e]);
  }
  // The errors at or below each path a union reports at: the only ones that can be its branches'.
  const belowUnion = new Map<string, ErrorObject[]>();
  const unionsAbove = new Map<ErrorObject, ErrorObject[]>();
  for (const e of errors) {
    const above: ErrorObject[] = [];
    for (const path of pathAndAncestors(e.instancePath)) {
      const unions = unionsAt.get(path);
      if (!unions) continue;
      belowUnion.set(path, [...(belowUnion.get(path) ?? []), e]);
      for (const u of unions) if (u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`)) above.push(u);
    }
    if (above.length > 0) unionsAbove.set(e, above);
  }
  const line = (e: ErrorObject): string => {
    const at = field(e.instancePath);
    switch (e.keyword) {
      case 'required':
        return `${at}.${nameToTell((e.params as { missingProperty: string }).missingProperty)} is required`;
      case 'additionalProperties':
        return `${at}.${nameToTell((e.params as { additionalProperty: string }).additionalProperty)} is not a known field`;
      default:
        return `${at} ${e.message ?? 'is invalid'}`;
    }
  };
  /** Whether `sub` belongs to a union nested inside `outer`, which reports for itself. */
  const inUnionBelow = (sub: ErrorObject, outer: ErrorObject) =>
    (unionsAbove.get(sub) ?? []).some((u) => u !== outer && u.schemaPath.startsWith(`${outer.schemaPath}/`));
  const linesOf = (e: ErrorObject): string[] => {
    if (e.keyword !== 'anyOf') return unionsAbove.has(e) ? [] : [line(e)];
    // A value of the right type for one branch is told what that branch wants (a range, a length);
    // a value of no branch's type is told the types.
    const branches = new Map<string, ErrorObject[]>();
    for (const sub of belowUnion.get(e.instancePath) ?? []) {
      if (sub === e || !sub.schemaPath.startsWith(`${e.schemaPath}/`)) continue;
      const branch = sub.schemaPath.slice(e.schemaPath.length + 1).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), sub]);
    }
    const fitting = [...branches.values()].find((subs) =>
      subs.every((sub) => sub.keyword !== 'type' && sub.keyword !== 'const' && !inUnionBelow(sub, e)),
    );
    if (fitting) return fitting.map(line);
    return [`${field(e.instancePath)} must be ${(e.schema as unknown[]).map(typeName).join(' or ')}`];
  };
  const told = new Set<string>();
  const untold = new Set<string>();
  for (const e of errors)
    for (const text of linesOf(e))
      (told.size < MAX_PROBLEMS_TOLD || told.has(text) ? told : untold).add(text);
  return untold.size > 0 ? [...told, `and ${untold.size} more`] : [...told];
}

function checked<T>(ajv: Ajv, where: string, schema: TSchema | undefined, value: unknown): T {
  if (!schema) return value as T;
  const validate = validatorFor(ajv, schema);
  if (!validate(value)) {
    throw new HttpError(400, 'invalid_request', describeProblems(where, validate.errors ?? []).join('; '));
  }
  return value as T;
}

const plainAjv = addFormats(new Ajv({ allErrors: true, verbose: true }));

/** What is wrong with a value against a schema of this API, such as an answer against its document. */
export function problemsAgainst(schema: TSchema, value: unknown): string[] {
  const validate = validatorFor(plainAjv, schema);
  return validate(value) ? [] : describeProblems('', validate.errors ?? []);
}

export const koaPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ':$1');

const jsonBody = koaBody({ json: true, jsonLimit: '256kb', text: false, urlencoded: false });

/** Deeper than any body of this API needs; far below what would exhaust the stack when it is written out. */
export const MAX_BODY_DEPTH = 32;

/** Whether objects and lists nest deeper than `limit`; walks without recursion, so any depth is safe. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Mounts each operation on the router with its input checked against its spec. */
export function mountOperations(router: Router, operations: readonly BoundOperation[]): void {
  for (const { spec, handle } of operations) {
    const route = async (ctx: Context) => {
      const params = checked<Record<string, unknown>>(textAjv, 'path', spec.params, { ...ctx.params });
      const query = checked<Record<string, unknown>>(textAjv, 'query', spec.query, { ...ctx.query });
      let body: unknown;
      if (spec.body) {
        if (!ctx.is('application/json'))
          throw new HttpError(415, 'unsupported_media_type', 'the body must be application/json');
        if (nestsDeeperThan(ctx.request.body, MAX_BODY_DEPTH))
          throw new HttpError(400, 'invalid_request', `the body nests deeper than ${MAX_BODY_DEPTH} levels`);
        body = checked(jsonAjv, 'body', spec.body, ctx.request.body ?? {});
      }
      await handle(ctx, { params, query, body } as OperationInput<TObject, TObject, TSchema>);
    };
    const path = koaPath(spec.path);
    if (spec.body) router[spec.method](spec.operationId, path, jsonBody, route);
    else router[spec.method](spec.operationId, path, route);
  }
}
