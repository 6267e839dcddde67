export * from './mongo-connection';
export * from './mongo-errors';
export * from './document-projection';
export * from './derived-projection';
export * from './read-model-pointer';
export type { ReplayStaging, ReplayStagingOptions } from './replay-staging';
export * from './read-model-snapshots';
export * from './collection-drops';
