import { ConfigError } from '@wxp/service-runtime';

/** The lines a configuration error reports while `load` runs; none when it loads. */
export function configProblems(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
