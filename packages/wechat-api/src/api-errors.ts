/** An answer from WeChat with `errcode` ≠ 0, carrying both as WeChat sent them. */
export class WechatApiError extends Error {
  override readonly name = 'WechatApiError';
  constructor(
    readonly api: string,
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${api} failed: ${errcode} ${errmsg}`);
  }
}

/** The request never got an answer WeChat could have meant: network, timeout, 5xx, not JSON. */
export class WechatTransportError extends Error {
  override readonly name = 'WechatTransportError';
  constructor(
    readonly api: string,
    message: string,
    /** False only when no connection was made, so WeChat cannot have acted on the request. */
    readonly mayHaveArrived = true,
  ) {
    super(`${api}: ${message}`);
  }
}

/** Input refused before any call, with the path of the offending field. */
export class WechatValidationError extends Error {
  override readonly name = 'WechatValidationError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

export const ErrorCodes = {
  systemBusy: -1,
  invalidCredential: 40001,
  invalidAccessToken: 40014,
  accessTokenExpired: 42001,
  accessTokenMissing: 41001,
  invalidAppId: 40013,
  invalidAppSecret: 40125,
  invalidOpenId: 40003,
  apiQuotaReached: 45009,
  apiMinuteQuota: 45011,
  outOfResponseWindow: 45015,
  permanentQrLimit: 45029,
  tooManyCustomMessages: 45047,
  noMenu: 46003,
  badDataFormat: 47001,
  openIdListTooLong: 40032,
  tooManyTags: 45056,
  userHasTooManyTags: 45059,
  tagNameTaken: 45157,
  tagNameTooLong: 45158,
  invalidTag: 45159,
} as const;

const tokenErrors = new Set<number>([
  ErrorCodes.invalidCredential,
  ErrorCodes.invalidAccessToken,
  ErrorCodes.accessTokenExpired,
]);
const transientErrors = new Set<number>([
  ErrorCodes.systemBusy,
  ErrorCodes.apiQuotaReached,
  ErrorCodes.apiMinuteQuota,
]);

/** The token was replaced, expired or is unknown: get a fresh one once and retry once. */
export function isTokenError(error: unknown): error is WechatApiError {
  return error instanceof WechatApiError && tokenErrors.has(error.errcode);
}

/** Worth retrying after a pause: WeChat busy, rate limits, and anything that never reached it. */
export function isTransient(error: unknown): boolean {
  return (
    error instanceof WechatTransportError ||
    (error instanceof WechatApiError && transientErrors.has(error.errcode))
  );
}

/** Refusals that say WeChat did nothing with the call: its quotas, checked before anything is done. */
const refusedUntried = new Set<number>([ErrorCodes.apiQuotaReached, ErrorCodes.apiMinuteQuota]);

/**
 * Worth retrying for a call that must not happen twice (a message sent, a QR code made): only when
 * it provably did nothing, because the request never left or WeChat refused it on a quota. A timeout,
 * a lost answer or "system busy" (-1) may follow a message WeChat delivered or a code it made, and
 * repeating the call would reach the user twice or spend a second code.
 */
export function isSafeToRepeat(error: unknown): boolean {
  if (error instanceof WechatTransportError) return !error.mayHaveArrived;
  return error instanceof WechatApiError && refusedUntried.has(error.errcode);
}

/** A call that must not happen twice failed in a way that leaves open whether WeChat carried it out. */
/**
 * Whether a failed call of `api` provably never reached WeChat: no connection was made for it, its
 * input was refused before, or what it needed first (the access_token) could not be had. Anything
 * else, an error of an unforeseen kind included, may have followed a call WeChat acted on.
 */
export function provablyNotCarriedOut(error: unknown, api: string): boolean {
  if (error instanceof WechatTransportError) return !error.mayHaveArrived || error.api !== api;
  if (error instanceof WechatApiError) return error.api !== api;
  return (
    error instanceof WechatValidationError || (error as Error | undefined)?.name === 'TokenUnavailableError'
  );
}

export function mayHaveBeenCarriedOut(error: unknown): boolean {
  if (error instanceof WechatTransportError) return error.mayHaveArrived;
  return error instanceof WechatApiError && error.errcode === ErrorCodes.systemBusy;
}
