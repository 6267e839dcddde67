import pino, { type Logger } from 'pino';

export type { Logger };

/** Causes followed when an error is logged; a chain may loop. */
const MAX_CAUSES = 4;

/**
 * An error as a log line may show it: its type, message, stack and the plain values it carries
 * (a code, an errcode, an api, a count), and its cause the same way. Objects it carries are left
 * out: a store driver's error holds the documents it could not write (`writeErrors[].op`), with
 * whatever personal fields they had, and a client's error may hold the request it made.
 */
export function loggableError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error).slice(0, 500) };
  const shown: Record<string, unknown> = {
    type: error.name || error.constructor?.name || 'Error',
    message: error.message,
    stack: error.stack,
  };
  for (const [name, value] of Object.entries(error)) {
    if (name === 'cause' || name === 'message' || name === 'stack') continue;
    if (typeof value === 'number' || typeof value === 'boolean') shown[name] = value;
    else if (typeof value === 'string') shown[name] = value.slice(0, 500);
  }
  if (error.cause !== undefined && depth < MAX_CAUSES) shown.cause = loggableError(error.cause, depth + 1);
  return shown;
}

/** Structured JSON logs on stdout, one line per record, tagged with the service name. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: loggableError },
  });
}
