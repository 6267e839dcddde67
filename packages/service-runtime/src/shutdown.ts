import type { Logger } from 'pino';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits. A second signal, or a stop that
 * outlasts `timeoutMs`, exits at once with a non-zero code so an orchestrator is never left waiting.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>, timeoutMs = 15000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Errors whose message is written for the person starting the service: printed as they are. */
const configurationErrors = new Set(['ConfigError', 'AccountsError']);

/** Logs a start-up failure and exits non-zero; configuration problems print their own lines. */
export function exitOnStartupError(service: string, logger: Logger | undefined, error: unknown): never {
  if (error instanceof Error && configurationErrors.has(error.name)) {
    process.stderr.write(`${service}: ${error.message}\n`);
  } else if (logger) {
    logger.fatal({ err: error }, 'failed to start');
  } else {
    process.stderr.write(`${service}: failed to start: ${String(error)}\n`);
  }
  process.exit(1);
}
