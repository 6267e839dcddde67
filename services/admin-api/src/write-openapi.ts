#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { openApiFile } from './openapi-file';
import { openApiYaml } from './openapi';

// Part of `npm run schemas`: rewrites docs/openapi.yaml from the operations' declarations.
writeFileSync(openApiFile, openApiYaml());
process.stdout.write(`${openApiFile}\n`);
