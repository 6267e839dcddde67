import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { isInfrastructureOutage } from '../src/event-consumer';

describe('isInfrastructureOutage', () => {
  it('recognises a broker that cannot be reached behind the errors kafkajs gives up with', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(isInfrastructureOutage(refused)).toBe(true);
    expect(
      isInfrastructureOutage(Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused })),
    ).toBe(true);
    expect(
      isInfrastructureOutage(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 5000 })),
    ).toBe(true);
  });

  it('leaves failures of the event, and broker answers about it, to the retry budget', () => {
    expect(isInfrastructureOutage(new Error('poison event'))).toBe(false);
    expect(isInfrastructureOutage(null)).toBe(false);
    const refusal = new KafkaJSProtocolError({
      message: 'This server does not host this topic-partition',
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: false,
    } as never);
    expect(
      isInfrastructureOutage(Object.assign(new KafkaJSNonRetriableError(refusal), { cause: refusal })),
    ).toBe(false);
  });
});
