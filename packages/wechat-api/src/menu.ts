import { WechatValidationError } from './api-errors';

/** Button types that carry a `key` (WeChat pushes it back with the event). */
const keyedButtonTypes = [
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
] as const;

export const leafButtonTypes = [
  ...keyedButtonTypes,
  'view',
  'media_id',
  'article_id',
  'article_view_limited',
  'miniprogram',
] as const;

export type ButtonType = (typeof leafButtonTypes)[number];

export interface MenuButton {
  type?: ButtonType;
  name: string;
  key?: string;
  url?: string;
  media_id?: string;
  article_id?: string;
  appid?: string;
  pagepath?: string;
  sub_button?: MenuButton[];
}

export interface Menu {
  button: MenuButton[];
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const keyTypes = new Set<string>(keyedButtonTypes);

function checkButton(button: unknown, path: string, top: boolean, problems: string[]): void {
  if (button === null || typeof button !== 'object') {
    problems.push(`${path} must be an object`);
    return;
  }
  const b = button as Record<string, unknown>;
  const maxName = top ? 16 : 60;
  if (typeof b.name !== 'string' || b.name.length === 0) problems.push(`${path}.name is required`);
  else if (bytes(b.name) > maxName)
    problems.push(`${path}.name is ${bytes(b.name)} bytes; at most ${maxName}`);

  const subs = b.sub_button;
  if (Array.isArray(subs) && subs.length > 0) {
    if (!top) problems.push(`${path}.sub_button: only top-level buttons have sub-buttons`);
    if (subs.length > 5) problems.push(`${path}.sub_button has ${subs.length} buttons; at most 5`);
    subs.forEach((sub, i) => checkButton(sub, `${path}.sub_button[${i}]`, false, problems));
    return;
  }
  const type = b.type;
  if (typeof type !== 'string' || !(leafButtonTypes as readonly string[]).includes(type)) {
    problems.push(`${path}.type must be one of ${leafButtonTypes.join(', ')}`);
    return;
  }
  const need = (field: string, max?: number) => {
    const value = b[field];
    if (typeof value !== 'string' || value.length === 0)
      problems.push(`${path}.${field} is required for type ${type}`);
    else if (max !== undefined && bytes(value) > max)
      problems.push(`${path}.${field} is ${bytes(value)} bytes; at most ${max}`);
  };
  if (keyTypes.has(type)) need('key', 128);
  if (type === 'view') need('url', 1024);
  if (type === 'media_id') need('media_id');
  if (type === 'article_id' || type === 'article_view_limited') need('article_id');
  if (type === 'miniprogram') {
    need('appid');
    need('pagepath');
    need('url', 1024);
  }
}

/** Checks a menu against WeChat's rules before `menu/create`; each problem names its button. */
export function validateMenu(menu: unknown): Menu {
  const problems: string[] = [];
  const buttons = (menu as { button?: unknown } | null)?.button;
  if (!Array.isArray(buttons)) {
    problems.push('button must be a list of 1 to 3 buttons');
  } else {
    if (buttons.length < 1 || buttons.length > 3)
      problems.push(`button has ${buttons.length} buttons; 1 to 3 allowed`);
    buttons.forEach((button, i) => checkButton(button, `button[${i}]`, true, problems));
  }
  if (problems.length > 0) throw new WechatValidationError(problems);
  return menu as Menu;
}
