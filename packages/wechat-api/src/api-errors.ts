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

/**
 * Worth retrying for a call that must not happen twice (a message sent to a user): only when WeChat
 * said it did nothing (busy, rate limited) or the request never left. A timeout or a lost answer may
 * follow a message WeChat delivered, and sending it again would reach the user twice.
 */
export function isSafeToRepeat(error: unknown): boolean {
  if (error instanceof WechatTransportError) return !error.mayHaveArrived;
  return isTransient(error);
}
