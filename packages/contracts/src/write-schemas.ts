#!/usr/bin/env node
import { writePublishedSchemas } from './published-schemas';
import { wechatEventDefinitions } from './wechat-events';

// `npm run schemas`: regenerates packages/contracts/schemas/ from the declarations.
for (const file of writePublishedSchemas(wechatEventDefinitions)) process.stdout.write(`${file}\n`);
