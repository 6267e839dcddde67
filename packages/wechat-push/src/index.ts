export * from './signature';
export * from './message-crypto';
export * from './push-builder';
