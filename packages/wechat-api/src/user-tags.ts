import { WechatValidationError } from './api-errors';

/** WeChat's limits for user tags. */
export const MAX_TAG_NAME_LENGTH = 30;
export const MAX_TAGGED_PER_CALL = 50;

/** A user tag as tags/get lists it; `count` is how many users carry it. */
export interface UserTag {
  id: number;
  name: string;
  count?: number;
}

/** Characters as a person counts them (and as the JSON Schemas do): an emoji is one, not two. */
export const charactersIn = (text: string) => [...text].length;

export function checkTagName(name: unknown): string {
  if (typeof name !== 'string' || name.length < 1 || charactersIn(name) > MAX_TAG_NAME_LENGTH) {
    throw new WechatValidationError([`tag name must be 1 to ${MAX_TAG_NAME_LENGTH} characters`]);
  }
  return name;
}

/** The body of tags/members/batchtagging, checked against WeChat's limits before any call. */
export function batchTaggingBody(tagId: number, openIds: readonly string[]) {
  const problems: string[] = [];
  if (!Number.isInteger(tagId) || tagId < 0) problems.push('tagid must be a whole number');
  if (openIds.length < 1 || openIds.length > MAX_TAGGED_PER_CALL) {
    problems.push(`openid_list must hold 1 to ${MAX_TAGGED_PER_CALL} openIds, got ${openIds.length}`);
  }
  if (openIds.some((openId) => typeof openId !== 'string' || openId === '')) {
    problems.push('every openId must be a non-empty string');
  }
  if (problems.length > 0) throw new WechatValidationError(problems);
  return { openid_list: [...openIds], tagid: tagId };
}
