import { resolve } from 'node:path';

/** The admin API's published document, from src/ and dist/ alike. */
export const openApiFile = resolve(__dirname, '..', '..', '..', 'docs', 'openapi.yaml');
