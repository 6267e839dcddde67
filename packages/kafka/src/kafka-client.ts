import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaSecurityFrom, type KafkaSecurity } from './connection-security';

export type { Kafka };

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** TLS and SASL; unset, as the KAFKA_SASL_* and KAFKA_TLS* variables say (none when they are unset). */
  security?: KafkaSecurity;
}

/**
 * A kafkajs client whose own log lines go through the service's structured logger, connecting as the
 * environment says: every service, tool and replay of a deployment reaches its brokers the same way.
 */
export function createKafka({ brokers, clientId, logger, security }: KafkaClientOptions): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  const { ssl, sasl } = security ?? kafkaSecurityFrom(process.env);
  return new Kafka({
    clientId,
    brokers,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        kafkaLogger[levelNames[level] ?? 'info'](rest, message);
      },
  });
}
