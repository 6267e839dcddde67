import QRCode from 'qrcode';
import { WechatValidationError } from './api-errors';

export const MAX_TEMPORARY_SCENE_ID = 4294967295;
export const MAX_PERMANENT_SCENE_ID = 100000;
export const MAX_EXPIRE_SECONDS = 2592000;

/** A parametric QR code as a marketing team thinks of it: temporary or permanent, a number or a text scene. */
export interface QrCodeSpec {
  kind: 'temporary' | 'permanent';
  scene: number | string;
  /** Temporary codes only; WeChat's short default applies when absent. */
  expireSeconds?: number;
}

export type QrActionName = 'QR_SCENE' | 'QR_STR_SCENE' | 'QR_LIMIT_SCENE' | 'QR_LIMIT_STR_SCENE';

export interface QrCreateBody {
  expire_seconds?: number;
  action_name: QrActionName;
  action_info: { scene: { scene_id: number } | { scene_str: string } };
}

/** Checks a spec against WeChat's limits and returns the `qrcode/create` body, or names what is wrong. */
export function qrCreateBody(spec: QrCodeSpec): QrCreateBody {
  const problems: string[] = [];
  const permanent = spec.kind === 'permanent';
  if (spec.kind !== 'temporary' && spec.kind !== 'permanent')
    problems.push('kind must be "temporary" or "permanent"');
  if (typeof spec.scene === 'number') {
    const max = permanent ? MAX_PERMANENT_SCENE_ID : MAX_TEMPORARY_SCENE_ID;
    if (!Number.isInteger(spec.scene) || spec.scene < 1 || spec.scene > max) {
      problems.push(`scene must be an integer from 1 to ${max} for a ${spec.kind} code`);
    }
  } else if (typeof spec.scene === 'string') {
    if (spec.scene.length < 1 || spec.scene.length > 64) problems.push('scene must be 1 to 64 characters');
  } else {
    problems.push('scene must be a number or a string');
  }
  if (spec.expireSeconds !== undefined) {
    if (permanent) problems.push('expireSeconds applies to temporary codes only');
    else if (
      !Number.isInteger(spec.expireSeconds) ||
      spec.expireSeconds < 1 ||
      spec.expireSeconds > MAX_EXPIRE_SECONDS
    ) {
      problems.push(`expireSeconds must be an integer from 1 to ${MAX_EXPIRE_SECONDS}`);
    }
  }
  if (problems.length > 0) throw new WechatValidationError(problems);

  const numeric = typeof spec.scene === 'number';
  const action_name: QrActionName = permanent
    ? numeric
      ? 'QR_LIMIT_SCENE'
      : 'QR_LIMIT_STR_SCENE'
    : numeric
      ? 'QR_SCENE'
      : 'QR_STR_SCENE';
  const scene = numeric ? { scene_id: spec.scene as number } : { scene_str: spec.scene as string };
  return {
    ...(spec.expireSeconds === undefined ? {} : { expire_seconds: spec.expireSeconds }),
    action_name,
    action_info: { scene },
  };
}

export interface QrCode {
  ticket: string;
  /** The URL the code encodes; rendering it gives the same code WeChat's image shows. */
  url: string;
  expireSeconds?: number;
  /** WeChat's image of the code, with the ticket URL-encoded. */
  imageUrl: string;
}

export const SHOW_QR_CODE_BASE = 'https://mp.weixin.qq.com/cgi-bin/showqrcode';

export function showQrCodeUrl(ticket: string, base = SHOW_QR_CODE_BASE): string {
  return `${base}?ticket=${encodeURIComponent(ticket)}`;
}

/** Renders the code locally from its `url`, without calling WeChat. */
export async function renderQrCode(url: string, format: 'png' | 'svg', size = 430): Promise<Buffer | string> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 2, width: size };
  return format === 'png'
    ? QRCode.toBuffer(url, { ...options, type: 'png' })
    : QRCode.toString(url, { ...options, type: 'svg' });
}
