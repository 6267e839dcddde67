import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout, one line per record, tagged with the service name. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
