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
 * The largest answer read: user/get's 10,000 openIds are about 400 KB, a batch of 100 profiles far
 * less. Anything longer is not an answer WeChat gives, and is not held in memory.
 */
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

/** errmsg as kept (events, logs): WeChat's are a sentence and a request id. */
const MAX_ERRMSG_CHARACTERS = 200;

class AnswerTooLarge extends Error {}

/** The body as text, refusing it once it passes `limit` bytes without reading the rest. */
async function boundedText(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new AnswerTooLarge();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new AnswerTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One HTTP call to WeChat's API server. Every call has a timeout, goes to the checked base only (a
 * redirect is refused: it would take the appSecret elsewhere) and reads at most MAX_ANSWER_BYTES.
 * Bodies are parsed as JSON whatever the Content-Type (some errors come as text/plain); `errcode` ≠ 0
 * becomes a WechatApiError. An answer that is not a JSON object may have followed a call WeChat
 * acted on, so it counts as one that may have arrived.
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
      redirect: 'error',
    });
    text = await boundedText(response, MAX_ANSWER_BYTES);
  } catch (error) {
    if (error instanceof AnswerTooLarge)
      throw new WechatTransportError(request.api, `an answer over ${MAX_ANSWER_BYTES} bytes`);
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WechatTransportError(
      request.api,
      `HTTP ${response.status} with a body that is not a JSON object`,
    );
  const errcode = (parsed as { errcode?: unknown }).errcode;
  if (typeof errcode === 'number' && errcode !== 0) {
    const errmsg = String((parsed as { errmsg?: unknown }).errmsg ?? '').slice(0, MAX_ERRMSG_CHARACTERS);
    throw new WechatApiError(request.api, errcode, errmsg);
  }
  if (response.status >= 400) throw new WechatTransportError(request.api, `HTTP ${response.status}`);
  return parsed as T;
}
