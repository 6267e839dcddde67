export * from './mongo-connection';
export * from './mongo-errors';
export * from './document-projection';
export * from './derived-projection';
export * from './read-model-pointer';
export { ReplayStaging, MAX_IDS_PER_READ, type ReplayStagingOptions } from './replay-staging';
