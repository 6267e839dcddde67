export * from './topics';
export * from './cloud-event';
export * from './event-definition';
export * from './wechat-events';
export * from './event-catalogue';
export * from './event-id';
export * from './schema-compatibility';
export * from './published-schemas';
