import { WechatApiError, WechatTransportError } from './api-errors';

export interface ApiRequest {
  api: string;
  method: 'GET' | 'POST';
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** False for calls that must not happen twice (a message sent, a QR code made): never repeated once they may have arrived. */
  repeatable?: boolean;
}

/** Connection failures that happen before a byte of the request is sent. */
const notConnected = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * One HTTP call to WeChat's API server. Every call has a timeout. Bodies are parsed as JSON whatever
 * the Content-Type (some errors come as text/plain); `errcode` ≠ 0 becomes a WechatApiError.
 */
export async function callWechat<T>(baseUrl: string, request: ApiRequest, timeoutMs: number): Promise<T> {
  const url = new URL(`${baseUrl.replace(/\/$/, '')}/cgi-bin/${request.api}`);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: request.method,
      headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    const sent = !(typeof code === 'string' && notConnected.has(code));
    throw new WechatTransportError(request.api, (error as Error).message, sent);
  }
  if (response.status >= 500) throw new WechatTransportError(request.api, `HTTP ${response.status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WechatTransportError(request.api, `HTTP ${response.status} with a body that is not JSON`);
  }
  const errcode = (parsed as { errcode?: unknown }).errcode;
  if (typeof errcode === 'number' && errcode !== 0) {
    throw new WechatApiError(request.api, errcode, String((parsed as { errmsg?: unknown }).errmsg ?? ''));
  }
  if (response.status >= 400) throw new WechatTransportError(request.api, `HTTP ${response.status}`);
  return parsed as T;
}
