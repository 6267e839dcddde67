export * from './kafka-client';
export * from './connection-security';
export * from './topic-provisioning';
export * from './event-publisher';
export * from './event-consumer';
export * from './topic-offsets';
