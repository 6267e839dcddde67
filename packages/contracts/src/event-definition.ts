import type { Static, TSchema } from '@sinclair/typebox';

/** One event type: its name, version, topic and schema, declared once. */
export interface EventDefinition<TType extends string = string, TSchemaOf extends TSchema = TSchema> {
  readonly type: TType;
  readonly version: number;
  readonly topic: string;
  readonly schema: TSchemaOf;
  /** The CloudEvents `dataschema` URI written with every event of this type. */
  readonly dataschema: string;
}

export function defineEvent<TType extends string, TSchemaOf extends TSchema>(
  type: TType,
  version: number,
  topic: string,
  schema: TSchemaOf,
): EventDefinition<TType, TSchemaOf> {
  return { type, version, topic, schema, dataschema: `urn:wxp:schema:${type}:v${version}` };
}

export type DataOf<TDefinition> = TDefinition extends EventDefinition<string, infer S> ? Static<S> : never;
