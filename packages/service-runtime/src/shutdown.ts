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

/** Kafka's refusals of a principal, as kafkajs names them (its `type`), and what to check for each. */
const brokerRefusals: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED:
    "the broker refused this service's Kafka user a topic: grant the ACLs README lists for it (Kafka and MongoDB connections)",
  GROUP_AUTHORIZATION_FAILED:
    "the broker refused this service's Kafka user its consumer group: grant READ on the group prefix README lists for it",
  CLUSTER_AUTHORIZATION_FAILED:
    "the broker refused this service's Kafka user a cluster operation: README's ACLs need none, so check the broker's authorizer settings",
  SASL_AUTHENTICATION_FAILED:
    'the broker did not accept the Kafka credentials: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password it is given',
};

/** The store's refusals of its user, by MongoDB's error code. MONGO_URL is named, never shown. */
const storeRefusals: Record<number, string> = {
  13: "the store refused MONGO_URL's user an operation: give it readWrite on the platform's database",
  18: 'the store did not accept the credentials in MONGO_URL: check its user, password and authSource',
};

/**
 * What an operator should look at when the start failed on a broker's or the store's refusal, or
 * undefined. Such a refusal is not retried: it lasts until someone changes a grant or a credential.
 */
export function startupHint(error: unknown): string | undefined {
  // kafkajs wraps the broker's answer when it gives up retrying (`originalError`); bounded, since an
  // error's chain is not ours to trust to end.
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const type = (cause as { type?: unknown }).type;
    if (typeof type === 'string' && Object.hasOwn(brokerRefusals, type)) return brokerRefusals[type];
    if (cause.name === 'KafkaJSSASLAuthenticationError') return brokerRefusals.SASL_AUTHENTICATION_FAILED;
    const code = (cause as { code?: unknown }).code;
    if (cause.name.startsWith('Mongo') && typeof code === 'number' && Object.hasOwn(storeRefusals, code))
      return storeRefusals[code];
    cause = (cause as { originalError?: unknown }).originalError ?? cause.cause;
  }
  return undefined;
}

/** Logs a start-up failure and exits non-zero; configuration problems print their own lines. */
export function exitOnStartupError(service: string, logger: Logger | undefined, error: unknown): never {
  const hint = startupHint(error);
  if (error instanceof Error && configurationErrors.has(error.name)) {
    process.stderr.write(`${service}: ${error.message}\n`);
  } else if (logger) {
    logger.fatal({ err: error, ...(hint ? { hint } : {}) }, 'failed to start');
  } else {
    process.stderr.write(`${service}: failed to start: ${String(error)}${hint ? ` (${hint})` : ''}\n`);
  }
  process.exit(1);
}
