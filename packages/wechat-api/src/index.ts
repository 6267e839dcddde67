export * from './api-errors';
export * from './api-transport';
export * from './retry';
export * from './qr-codes';
export * from './menu';
export * from './shared-access-tokens';
export * from './wechat-api-client';
export * from './client-from-env';
