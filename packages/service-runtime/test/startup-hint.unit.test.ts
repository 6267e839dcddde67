import {
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { MongoServerError } from 'mongodb';
import { startupHint } from '../src/shutdown';

// kafkajs builds these from the broker's answer; its type declarations give the constructors other
// arguments than its code takes.
const ProtocolError = KafkaJSProtocolError as unknown as new (answer: {
  type: string;
  code: number;
  retriable: boolean;
  message: string;
}) => KafkaJSProtocolError;
const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

/** A broker's error answer as kafkajs raises it. */
const refusal = (type: string, code: number) =>
  new ProtocolError({ type, code, retriable: false, message: type });

describe('what a failed start tells the operator to check', () => {
  it('points a refused topic or group at the ACLs README lists', () => {
    expect(startupHint(refusal('TOPIC_AUTHORIZATION_FAILED', 29))).toMatch(/grant the ACLs README lists/);
    expect(startupHint(refusal('GROUP_AUTHORIZATION_FAILED', 30))).toMatch(/group prefix/);
  });

  it('points refused credentials at the SASL variables, naming no value', () => {
    const hint = startupHint(new SaslError('SASL SCRAM SHA512 authentication failed'));
    expect(hint).toMatch(/KAFKA_SASL_USERNAME/);
    expect(startupHint(refusal('SASL_AUTHENTICATION_FAILED', 58))).toBe(hint);
  });

  it('finds the refusal inside the error kafkajs gives up retrying with', () => {
    const gaveUp = new KafkaJSNumberOfRetriesExceeded(refusal('TOPIC_AUTHORIZATION_FAILED', 29), {
      retryCount: 5,
      retryTime: 100,
    });
    expect(startupHint(gaveUp)).toMatch(/ACLs/);
  });

  it('points the store refusing its user at MONGO_URL, naming no value', () => {
    const refused = new MongoServerError({
      code: 18,
      codeName: 'AuthenticationFailed',
      errmsg: 'Authentication failed.',
    });
    expect(startupHint(refused)).toMatch(/credentials in MONGO_URL/);
    const unauthorized = new MongoServerError({
      code: 13,
      codeName: 'Unauthorized',
      errmsg: 'not authorized',
    });
    expect(startupHint(unauthorized)).toMatch(/readWrite/);
    expect(startupHint(new MongoServerError({ code: 11000, errmsg: 'duplicate key' }))).toBeUndefined();
  });

  it('has nothing to add for other failures', () => {
    expect(startupHint(new Error('connect ECONNREFUSED 127.0.0.1:9092'))).toBeUndefined();
    expect(startupHint(refusal('UNKNOWN_TOPIC_OR_PARTITION', 3))).toBeUndefined();
    expect(startupHint('not an error')).toBeUndefined();
  });
});
