import { Topics, type PushEvent, type WechatEvent } from '@wxp/contracts';
import { EventPublisher, type Kafka } from '@wxp/kafka';
import { DataKeyStore, EventOpener, pseudonymOf, sealEvent, sealEventAsErased } from '@wxp/privacy';
import { MongoClient, type Db } from 'mongodb';
import { toCanonicalEvent } from '../../services/gateway/src/canonical-event';
import type { PushFields } from '../../services/gateway/src/push-parser';
import { mongoUrlFor } from './infrastructure';

/** The PRIVACY_KEY of every test that does not choose its own. */
export const testPrivacyKey = 'test-privacy-key-0123456789abcdef';

/** The database holding users' data keys where a test does not give its own. */
export const sharedKeysDatabase = 'wxp-test-keys';

export function testPseudonymOf(appId: string, openId: string, privacyKey = testPrivacyKey): string {
  return pseudonymOf(privacyKey, appId, openId);
}

/** The event the gateway makes of a push, personal fields still in clear (not yet sealed). */
export function canonicalEvent(appId: string, fields: PushFields, privacyKey = testPrivacyKey): PushEvent {
  return toCanonicalEvent(appId, fields, (a, o) => pseudonymOf(privacyKey, a, o));
}

let sharedClient: Promise<MongoClient> | undefined;

/** The shared keys database, connected once per test file. */
export async function sharedKeysDb(): Promise<Db> {
  sharedClient ??= new MongoClient(mongoUrlFor(sharedKeysDatabase)).connect();
  return (await sharedClient).db();
}

export async function closeSharedKeysDb(): Promise<void> {
  const client = sharedClient;
  sharedClient = undefined;
  await (await client)?.close();
}

/** Publishes events as the gateway does: sealed with their users' keys, keyed by pseudonym. */
export class SealingPublisher {
  private constructor(
    private readonly publisher: EventPublisher,
    readonly keys: DataKeyStore,
  ) {}

  static async connect(kafka: Kafka, keysDb: Db, privacyKey = testPrivacyKey): Promise<SealingPublisher> {
    const keys = new DataKeyStore(keysDb, privacyKey);
    await keys.prepare();
    return new SealingPublisher(await EventPublisher.connect(kafka), keys);
  }

  async seal(event: WechatEvent): Promise<WechatEvent> {
    if (event.type === 'wechat.user.erased') return event;
    const key = await this.keys.keyForWriting(event.data.appId, event.subject!, {
      fresh: event.type === 'wechat.user.subscribed',
      latest: event.type === 'wechat.user.unsubscribed',
    });
    return key ? sealEvent(event, key) : sealEventAsErased(event);
  }

  async publish(event: WechatEvent, topic: string = Topics.events): Promise<void> {
    await this.publisher.publish({ topic, key: event.subject!, event: await this.seal(event) });
  }

  /** Publishes an event sealed before, as it is: the same message stored again. */
  async publishSealed(sealed: WechatEvent, topic: string = Topics.events): Promise<void> {
    await this.publisher.publish({ topic, key: sealed.subject!, event: sealed });
  }

  /**
   * Publishes a history in order. An event object that comes again is published as it was sealed
   * the first time: the same message stored twice, as a redelivery leaves it.
   */
  async publishAll(events: WechatEvent[], topic: string = Topics.events): Promise<void> {
    const sealed = new Map<WechatEvent, WechatEvent>();
    for (const event of events) {
      let once = sealed.get(event);
      if (!once) {
        once = await this.seal(event);
        sealed.set(event, once);
      }
      await this.publishSealed(once, topic);
    }
  }

  disconnect(): Promise<void> {
    return this.publisher.disconnect();
  }
}

/**
 * An opener over a keys database. `openOnRead`: as a consumer service has one (fields decrypted when
 * read); without it, everything is opened at once, for tests that look at whole events.
 */
export function testOpener(
  keysDb: Db,
  privacyKey = testPrivacyKey,
  options: { openOnRead?: boolean } = {},
): EventOpener {
  return new EventOpener(new DataKeyStore(keysDb, privacyKey), options);
}
