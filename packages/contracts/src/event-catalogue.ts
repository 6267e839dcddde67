import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { CloudEvent } from './cloud-event';
import type { EventDefinition } from './event-definition';
import { adminEventDefinitions } from './admin-events';
import { profileEventDefinitions } from './profile-events';
import { wechatEventDefinitions } from './wechat-events';
import { SEALED_KEYWORD } from './push-event-base';

/** Every event type the platform publishes, on every topic. */
export const allEventDefinitions: readonly EventDefinition[] = [
  ...wechatEventDefinitions,
  ...profileEventDefinitions,
  ...adminEventDefinitions,
];

/** Every event type the platform publishes, by type name. */
export const eventCatalogue: ReadonlyMap<string, EventDefinition> = new Map(
  allEventDefinitions.map((definition) => [definition.type, definition]),
);

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
// Metadata for readers that open events: the shape of a sealed value once opened.
ajv.addKeyword({ keyword: SEALED_KEYWORD, schemaType: 'object' });
const validators = new Map<string, ValidateFunction>();
const openedValidators = new Map<string, ValidateFunction>();

function validatorFor(definition: EventDefinition): ValidateFunction {
  let validate = validators.get(definition.type);
  if (!validate) {
    validate = ajv.compile(definition.schema);
    validators.set(definition.type, validate);
  }
  return validate;
}

export class EventSchemaError extends Error {
  override readonly name = 'EventSchemaError';
  constructor(
    readonly eventType: string,
    readonly problems: string[],
  ) {
    super(`${eventType} does not match its schema: ${problems.join('; ')}`);
  }
}

/** Returns the problems of `data` against the schema of `type`, or an empty list when it conforms. */
export function schemaProblems(type: string, data: unknown): string[] {
  const definition = eventCatalogue.get(type);
  if (!definition) return [`unknown event type ${type}`];
  const validate = validatorFor(definition);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

export function assertValidEvent(event: CloudEvent): void {
  const problems = schemaProblems(event.type, event.data);
  if (problems.length > 0) throw new EventSchemaError(event.type, problems);
}

/** The schema of an event's data once opened: each sealed property replaced by its opened shape. */
export function openedSchemaOf(definition: EventDefinition): Record<string, unknown> {
  const schema = JSON.parse(JSON.stringify(definition.schema)) as Record<string, unknown>;
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, property] of Object.entries(properties)) {
    const opened = property[SEALED_KEYWORD];
    if (opened !== undefined) properties[name] = opened as Record<string, unknown>;
  }
  return schema;
}

/** Like `schemaProblems`, for data in clear: what the gateway checks before sealing a typed event. */
export function openedSchemaProblems(type: string, data: unknown): string[] {
  const definition = eventCatalogue.get(type);
  if (!definition) return [`unknown event type ${type}`];
  let validate = openedValidators.get(type);
  if (!validate) {
    validate = ajv.compile(openedSchemaOf(definition));
    openedValidators.set(type, validate);
  }
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}
