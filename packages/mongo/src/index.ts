export * from './mongo-connection';
export * from './mongo-errors';
export * from './document-projection';
export * from './derived-projection';
