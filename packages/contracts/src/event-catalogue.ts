import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { CloudEvent } from './cloud-event';
import type { EventDefinition } from './event-definition';
import { adminEventDefinitions } from './admin-events';
import { profileEventDefinitions } from './profile-events';
import { wechatEventDefinitions } from './wechat-events';

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
const validators = new Map<string, ValidateFunction>();

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
