import type { TObject, TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { apiOperations, throttled, unauthorized } from './api-operations';
import { defaultAuthThrottle as throttle } from './auth-throttle';
import type { OperationSpec } from './operation';

// TypeBox keeps its bookkeeping under symbols; a JSON round trip leaves plain JSON Schema.
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema));

function parametersOf(spec: OperationSpec): unknown[] {
  const of = (where: 'path' | 'query', schema: TObject | undefined) =>
    Object.entries(schema?.properties ?? {}).map(([name, property]) => {
      const { description, ...rest } = plain(property as TSchema);
      return {
        name,
        in: where,
        required: where === 'path' || ((schema?.required ?? []) as string[]).includes(name),
        ...(description === undefined ? {} : { description }),
        schema: rest,
      };
    });
  return [...of('path', spec.params), ...of('query', spec.query)];
}

function responsesOf(spec: OperationSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries({ ...spec.responses, 401: unauthorized, 429: throttled })) {
    const types = response.contentTypes ?? (response.schema ? ['application/json'] : []);
    responses[status] = {
      description: response.description,
      ...(types.length === 0
        ? {}
        : {
            content: Object.fromEntries(
              types.map((type) => [
                type,
                response.schema
                  ? { schema: plain(response.schema) }
                  : { schema: { type: 'string', format: 'binary' } },
              ]),
            ),
          }),
    };
  }
  return responses;
}

/** The OpenAPI 3.1 document of the admin API, built from the same declarations that mount its routes. */
export function openApiDocument(
  operations: readonly OperationSpec[] = apiOperations,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of operations) {
    const path = `/api${spec.path}`;
    paths[path] ??= {};
    paths[path][spec.method] = {
      operationId: spec.operationId,
      tags: [spec.tag],
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      parameters: parametersOf(spec),
      ...(spec.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: plain(spec.body) } } } }
        : {}),
      responses: responsesOf(spec),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'WeChat Official Account platform: admin API',
      version: '1.0.0',
      description:
        'QR code campaigns, the custom menu, reply rules, the read models and users’ erasure requests. Every request but the ' +
        'dashboard’s files, /healthz, /metrics and these documents needs `Authorization: Bearer <ADMIN_TOKEN>`. ' +
        'Paths match exactly as written here (case-sensitive, no trailing slash); any other is a 404. An ' +
        `address with ${throttle.maxFailures} failed authentications within ${throttle.windowMs / 60_000} ` +
        'minutes is answered 429 until that window ends. ' +
        'Answers are `Cache-Control: no-store`. Errors are `{ error, message }`; a 400 names each field that is wrong.',
    },
    servers: [{ url: 'http://127.0.0.1:8081' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

export const openApiYaml = () => stringify(openApiDocument(), { lineWidth: 0 });
