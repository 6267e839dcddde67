export * from './config';
export * from './logger';
export * from './metrics';
export * from './http-errors';
export * from './health-routes';
export * from './http-server';
export * from './shutdown';
export * from './background-service';
