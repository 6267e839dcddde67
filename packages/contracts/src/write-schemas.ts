#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncApiYaml } from './asyncapi';
import { writePublishedSchemas } from './published-schemas';
import { wechatEventDefinitions } from './wechat-events';

// `npm run schemas`: regenerates packages/contracts/schemas/ and docs/asyncapi.yaml from the declarations.
for (const file of writePublishedSchemas(wechatEventDefinitions)) process.stdout.write(`${file}\n`);
const asyncApiFile = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml');
writeFileSync(asyncApiFile, asyncApiYaml());
process.stdout.write(`${asyncApiFile}\n`);
