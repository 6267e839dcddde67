import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventDefinition } from './event-definition';
import { compatibilityProblems } from './schema-compatibility';

/** The folder of the published JSON Schemas, one file per event type and version. */
export const publishedSchemaDir = join(__dirname, '..', 'schemas');

export function publishedSchemaFile(definition: EventDefinition): string {
  return join(publishedSchemaDir, `${definition.type}.v${definition.version}.json`);
}

/** The document written for a type: its JSON Schema with the identifiers other teams refer to. */
export function schemaDocument(definition: EventDefinition): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: definition.dataschema,
    title: definition.type,
    'x-topic': definition.topic,
    'x-version': definition.version,
    ...JSON.parse(JSON.stringify(definition.schema)),
  };
}

export function readPublishedSchema(definition: EventDefinition): Record<string, unknown> | undefined {
  const file = publishedSchemaFile(definition);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
}

/**
 * Writes the schema files for the given types; refuses (and writes nothing) when any change would
 * break readers of an already published version: that needs a new version instead.
 */
export function writePublishedSchemas(definitions: readonly EventDefinition[]): string[] {
  const problems = definitions.flatMap((definition) => {
    const published = readPublishedSchema(definition);
    return published
      ? compatibilityProblems(published, schemaDocument(definition)).map((p) => `${definition.type}: ${p}`)
      : [];
  });
  if (problems.length > 0) throw new Error(`incompatible schema changes:\n${problems.join('\n')}`);
  return definitions.map((definition) => {
    const file = publishedSchemaFile(definition);
    writeFileSync(file, `${JSON.stringify(schemaDocument(definition), null, 2)}\n`);
    return file;
  });
}
