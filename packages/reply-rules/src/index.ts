export * from './rules';
export * from './passive-reply';
export * from './message-validation';
export * from './rules-book';
