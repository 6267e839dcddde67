export { pseudonymOf } from './pseudonym';
export { DataKeyStore, DATA_KEYS_COLLECTION, type DataKey, type DataKeyStoreOptions } from './data-key-store';
export { KeyUnwrapError } from './key-wrapping';
export {
  CLEAR_PUSH_FIELDS,
  carriesPersonalData,
  openEvent,
  openEventOnRead,
  personalPathsOf,
  sealEvent,
  sealEventAsErased,
  UnsealableEventError,
  type OpenedEvent,
} from './personal-fields';
export { ERASED_VALUE, isSealedValue, SealedValueError } from './sealed-value';
export { EventOpener, NO_DATA_KEYS, type DataKeySource } from './event-opener';
