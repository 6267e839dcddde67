import { HttpError } from '@wxp/service-runtime';
import { ErrorCodes, WechatApiError, WechatTransportError, WechatValidationError } from '@wxp/wechat-api';
import type { Middleware } from 'koa';

/** WeChat's refusals as HTTP answers: our input checks are 400s, WeChat's errcodes 502, no answer 503. */
export function wechatErrors(): Middleware {
  return async function mapWechatErrors(_ctx, next) {
    try {
      await next();
    } catch (error) {
      if (error instanceof WechatValidationError) throw new HttpError(400, 'invalid_request', error.message);
      if (error instanceof WechatApiError) {
        if (error.errcode === ErrorCodes.noMenu)
          throw new HttpError(404, 'no_menu', 'the account has no menu');
        throw new HttpError(
          502,
          'wechat_error',
          `WeChat refused ${error.api}: errcode ${error.errcode} (${error.errmsg})`,
          true,
        );
      }
      if (error instanceof WechatTransportError)
        throw new HttpError(503, 'wechat_unreachable', `WeChat did not answer: ${error.message}`, true);
      throw error;
    }
  };
}
