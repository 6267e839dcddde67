import type { Logger } from 'pino';

/**
 * `kill -HUP <pid>` reloads what `reload` reads (the accounts file): a file that does not load is
 * reported and what the service already uses stays in place. The service keeps running either way.
 */
export function reloadOnHangup(logger: Logger, what: string, reload: () => Record<string, unknown>): void {
  process.on('SIGHUP', () => {
    try {
      logger.info(reload(), `${what} reloaded`);
    } catch (error) {
      logger.error({ err: error }, `${what} not reloaded`);
    }
  });
}

/**
 * Node ends a process on SIGHUP unless someone listens: a service with nothing to reload says so
 * and goes on, so a HUP sent to every service of a deployment stops none of them.
 */
export function surviveHangup(logger: Logger): void {
  if (process.listenerCount('SIGHUP') > 0) return;
  process.on('SIGHUP', () => logger.info('SIGHUP: this service reads no file to reload'));
}
