import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

/** Writes a generated file as the repository's prettier settings would, so `npm run lint` passes on it. */
export async function writeFormatted(file: string, text: string): Promise<void> {
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(text, { ...options, filepath: file }));
}
