import type { Account } from '@wxp/accounts';
import { Topics, sourceOfApp, type CloudEvent, type DataOf, type EventDefinition } from '@wxp/contracts';
import type { OutgoingEvent } from '@wxp/kafka';
import { HttpError } from '@wxp/service-runtime';
import type { WechatApiClient } from '@wxp/wechat-api';
import { randomUUID } from 'node:crypto';

/** The calls to WeChat the admin API makes. */
export type AdminWechatApi = Pick<WechatApiClient, 'createQrCode' | 'createMenu' | 'getMenu' | 'deleteMenu'>;

/** What the command routes need: the accounts, WeChat, and the way onto wechat.admin.v1. */
export interface CommandContext {
  accounts: ReadonlyMap<string, Account>;
  wechat: AdminWechatApi;
  /** Writes an event to Kafka; resolves once the broker acknowledged it. */
  publish(event: OutgoingEvent): Promise<void>;
}

export function requireAccount(accounts: ReadonlyMap<string, Account>, appId: string): Account {
  const account = accounts.get(appId);
  if (!account) throw new HttpError(404, 'unknown_app', 'the appId is not one of the configured accounts');
  return account;
}

/**
 * Records an accepted command on wechat.admin.v1, keyed by account so each account's commands stay
 * in order, with the name of the credential that issued it. A broker that does not take it is a 503
 * whose message (`unrecorded`) says what was done all the same, WeChat's part above all.
 */
export async function recordAdminEvent<D extends EventDefinition>(
  publish: CommandContext['publish'],
  definition: D,
  data: DataOf<D> & { appId: string },
  actor: string,
  unrecorded: string,
): Promise<CloudEvent> {
  const event: CloudEvent = {
    specversion: '1.0',
    id: randomUUID(),
    source: sourceOfApp(data.appId),
    type: definition.type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    dataschema: definition.dataschema,
    data: { ...data, actor },
  };
  try {
    await publish({ topic: Topics.admin, key: data.appId, event });
  } catch (error) {
    throw new HttpError(503, 'not_recorded', unrecorded, true, { cause: error });
  }
  return event;
}
