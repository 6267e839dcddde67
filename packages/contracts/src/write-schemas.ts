#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncApiYaml } from './asyncapi';
import { writePublishedSchemas } from './published-schemas';
import { allEventDefinitions } from './event-catalogue';

// `npm run schemas`: regenerates packages/contracts/schemas/ and docs/asyncapi.yaml from the declarations.
for (const file of writePublishedSchemas(allEventDefinitions)) process.stdout.write(`${file}\n`);
const asyncApiFile = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml');
writeFileSync(asyncApiFile, asyncApiYaml());
process.stdout.write(`${asyncApiFile}\n`);
