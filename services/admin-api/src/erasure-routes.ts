import { Topics, UserErased, derivedEventId, sourceOfApp, type WechatEventOf } from '@wxp/contracts';
import { pseudonymOf, type DataKeyStore } from '@wxp/privacy';
import { HttpError, type Logger } from '@wxp/service-runtime';
import { requireAccount, type CommandContext } from './admin-commands';
import { eraseUser } from './api-operations';
import { actorOf } from './bearer-auth';
import { operation, type BoundOperation } from './operation';

export interface ErasureOptions {
  commands: CommandContext;
  keys: DataKeyStore;
  privacyKey: string;
  logger: Logger;
  now?: () => number;
}

/**
 * An erasure request: the user's data keys go first (that is the erasure: every copy of their
 * events becomes unreadable), then the announcement on the events topic, keyed by the pseudonym
 * like the user's other events so that every consumer reads it after them.
 */
export function erasureOperations(options: ErasureOptions): BoundOperation[] {
  const now = options.now ?? Date.now;
  const erase = operation(eraseUser, async (ctx, { params }) => {
    const { appId, openId } = params;
    requireAccount(options.commands.accounts, appId);
    const pseudonym = pseudonymOf(options.privacyKey, appId, openId);
    const requestedAt = Math.floor(now() / 1000);
    const destroyed = await options.keys.eraseUser(pseudonym);
    const event: WechatEventOf<'wechat.user.erased'> = {
      specversion: '1.0',
      // Deterministic: a request repeated within the second is one event to the consumers. Made of
      // the pseudonym, so the id reveals nothing an openId could be checked against.
      id: derivedEventId(UserErased.type, `${pseudonym}:${requestedAt}`),
      source: sourceOfApp(appId),
      type: 'wechat.user.erased',
      subject: pseudonym,
      time: new Date(requestedAt * 1000).toISOString(),
      datacontenttype: 'application/json',
      dataschema: UserErased.dataschema,
      data: { appId, requestedAt },
    };
    try {
      await options.commands.publish({ topic: Topics.events, key: pseudonym, event });
    } catch (error) {
      options.logger.error({ err: error, appId, subject: pseudonym }, 'erasure not announced');
      throw new HttpError(
        503,
        'not_announced',
        'the user’s keys are destroyed but the erasure could not be announced yet; ask again',
        true,
      );
    }
    options.logger.info(
      { appId, subject: pseudonym, keysDestroyed: destroyed, eventId: event.id, actor: actorOf(ctx) },
      'user erased',
    );
    ctx.status = 202;
    ctx.body = { status: 'erasure accepted' };
  });
  return [erase];
}
