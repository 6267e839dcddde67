import type { WechatEvent } from '@wxp/contracts';
import { WechatApiError, WechatTransportError, type WechatApiClient } from '@wxp/wechat-api';
import { MongoServerError, type Db } from 'mongodb';
import pino from 'pino';
import { responderBehaviour } from '../src/responder';
import { wechatEvent } from '../../../test/support/wechat-events';

/** The two collections the responder uses, in memory; `failStatus` makes setting that status fail. */
function storeStandIn(failStatus?: string) {
  const markers = new Map<string, Record<string, unknown>>();
  const rules = {
    _id: 'wxapp',
    appId: 'wxapp',
    rules: JSON.stringify({ menu: { K: { msgtype: 'text', text: { content: 'hi' } } }, welcome: {} }),
  };
  const db = {
    collection: (name: string) =>
      name === 'sent_replies'
        ? {
            insertOne: async (doc: { _id: string }) => {
              if (markers.has(doc._id)) throw new MongoServerError({ message: 'duplicate key', code: 11000 });
              markers.set(doc._id, { ...doc });
            },
            updateOne: async (filter: { _id: string }, update: { $set: Record<string, unknown> }) => {
              if (update.$set.status === failStatus) throw new Error('store unreachable');
              Object.assign(markers.get(filter._id)!, update.$set);
            },
            findOne: async (filter: { _id: string }) => markers.get(filter._id) ?? null,
            deleteOne: async (filter: { _id: string; status: string }) => {
              if (markers.get(filter._id)?.status === filter.status) markers.delete(filter._id);
            },
          }
        : { findOne: async () => rules },
  } as unknown as Db;
  return { db, markers };
}

function apiThat(outcome: () => Promise<void>) {
  const sends: string[] = [];
  const api = {
    sendCustomMessage: async (_appId: string, openId: string) => {
      sends.push(openId);
      await outcome();
    },
  } as unknown as WechatApiClient;
  return { api, sends };
}

const click = () =>
  ({
    ...wechatEvent('wechat.menu.clicked', 'wxapp', 'oUser', Math.floor(Date.now() / 1000), { key: 'K' }),
  }) as WechatEvent;

async function handleTwice(api: WechatApiClient, db: Db, event: WechatEvent) {
  const handle = responderBehaviour(api, pino({ level: 'silent' }), 3600).handler(db);
  const delivered = [{ event, erased: false, offset: 1, partition: 0 }] as never;
  const first = await handle(delivered).catch((error: unknown) => error);
  const second = await handle(delivered).catch((error: unknown) => error);
  return { first, second };
}

describe('the menu responder and what a send left uncertain', () => {
  it('keeps the marker of a sent reply when recording it fails: the redelivery sends nothing', async () => {
    const { db, markers } = storeStandIn('sent');
    const { api, sends } = apiThat(async () => {});
    const event = click();
    const { first } = await handleTwice(api, db, event);
    expect(first).toBeInstanceOf(Error);
    expect(sends).toHaveLength(1);
    expect(markers.get(event.id)).toMatchObject({ status: 'sending' });
  });

  it('records a send answered -1 or lost as unconfirmed and does not send it again', async () => {
    for (const error of [
      new WechatApiError('message/custom/send', -1, 'system busy'),
      new WechatTransportError('message/custom/send', 'aborted'),
    ]) {
      const { db, markers } = storeStandIn();
      const { api, sends } = apiThat(() => Promise.reject(error));
      const event = click();
      await handleTwice(api, db, event);
      expect(sends).toHaveLength(1);
      expect(markers.get(event.id)).toMatchObject({ status: 'unconfirmed' });
    }
  });

  it('records an unforeseen failure of the send as unconfirmed: it may have followed a send WeChat took', async () => {
    const { db, markers } = storeStandIn();
    const { api, sends } = apiThat(() =>
      Promise.reject(new TypeError("Cannot read properties of null (reading 'errcode')")),
    );
    const event = click();
    await handleTwice(api, db, event);
    expect(sends).toHaveLength(1);
    expect(markers.get(event.id)).toMatchObject({ status: 'unconfirmed' });
  });

  it('tries again a send whose access_token could not be had, which never left', async () => {
    const { db, markers } = storeStandIn();
    let calls = 0;
    const { api, sends } = apiThat(async () => {
      if (calls++ === 0) throw new WechatApiError('stable_token', -1, 'system busy');
    });
    const event = click();
    const { first, second } = await handleTwice(api, db, event);
    expect(first).toBeInstanceOf(WechatApiError);
    expect(second).toBeUndefined();
    expect(sends).toHaveLength(2);
    expect(markers.get(event.id)).toMatchObject({ status: 'sent' });
  });

  it('tries again, with the event, a send that provably never left', async () => {
    const { db, markers } = storeStandIn();
    let calls = 0;
    const { api, sends } = apiThat(async () => {
      if (calls++ === 0) throw new WechatTransportError('message/custom/send', 'ECONNREFUSED', false);
    });
    const event = click();
    const { first, second } = await handleTwice(api, db, event);
    expect(first).toBeInstanceOf(WechatTransportError);
    expect(second).toBeUndefined();
    expect(sends).toHaveLength(2);
    expect(markers.get(event.id)).toMatchObject({ status: 'sent' });
  });
});

describe('the menu responder and the accounts the gateway answers itself', () => {
  it('sends nothing for an account that replies inside the answer, and leaves no marker', async () => {
    const { db, markers } = storeStandIn();
    const { api, sends } = apiThat(async () => {});
    const handle = responderBehaviour(api, pino({ level: 'silent' }), 3600, {
      repliesInAnswer: (appId) => appId === 'wxapp',
    }).handler(db);
    await handle([{ event: click(), erased: false, offset: 1, partition: 0 }] as never);
    expect(sends).toEqual([]);
    expect(markers.size).toBe(0);
  });

  it('goes by how the gateway answered the push when it says, whatever the accounts file says now', async () => {
    const { db } = storeStandIn();
    const { api, sends } = apiThat(async () => {});
    // The file says passive now; the gateway answered this click when the account was custom.
    const custom = { ...click(), replychannel: 'custom' } as WechatEvent;
    const passive = { ...click(), id: 'answered-by-the-gateway', replychannel: 'passive' } as WechatEvent;
    await responderBehaviour(api, pino({ level: 'silent' }), 3600, { repliesInAnswer: () => true }).handler(
      db,
    )([{ event: custom, erased: false, offset: 1, partition: 0 }] as never);
    await responderBehaviour(api, pino({ level: 'silent' }), 3600, { repliesInAnswer: () => false }).handler(
      db,
    )([{ event: passive, erased: false, offset: 2, partition: 0 }] as never);
    expect(sends).toEqual(['oUser']);
  });

  it('answers a keyword through the customer-service API for the other accounts', async () => {
    const { db } = storeStandIn();
    const rules = {
      _id: 'wxapp',
      appId: 'wxapp',
      rules: JSON.stringify({
        menu: {},
        welcome: {},
        keywords: {
          rules: [{ match: 'exact', keyword: 'hi', reply: { msgtype: 'text', text: { content: 'hello' } } }],
        },
      }),
    };
    const withKeywords = {
      collection: (name: string) =>
        name === 'sent_replies' ? db.collection(name) : { findOne: async () => rules },
    } as unknown as Db;
    const { api, sends } = apiThat(async () => {});
    const text = wechatEvent('wechat.message.received', 'wxapp', 'oUser', Math.floor(Date.now() / 1000), {
      msgType: 'text',
      fields: { Content: 'hi' },
    });
    await responderBehaviour(api, pino({ level: 'silent' }), 3600).handler(withKeywords)([
      { event: text, erased: false, offset: 1, partition: 0 },
    ] as never);
    expect(sends).toEqual(['oUser']);
  });
});

describe('the record of a reply sent through the customer-service API', () => {
  it('is written once the send is taken, and written again by a redelivery if it was not', async () => {
    const { db } = storeStandIn();
    const { api, sends } = apiThat(async () => {});
    const records: { id: string; data: Record<string, unknown>; causationid?: string }[] = [];
    let failOnce = true;
    const handle = responderBehaviour(api, pino({ level: 'silent' }), 3600, {
      recordReply: async (record) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('broker away');
        }
        records.push(record);
      },
    }).handler(db);
    const event = click();
    const delivered = [{ event, erased: false, offset: 1, partition: 0 }] as never;
    await expect(handle(delivered)).rejects.toThrow('broker away');
    await handle(delivered);
    await handle(delivered);
    expect(sends).toHaveLength(1);
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual(records[1]);
    expect(records[0]).toMatchObject({
      type: 'wechat.reply.sent',
      causationid: event.id,
      data: { appId: 'wxapp', replyTo: event.id, channel: 'custom', rule: 'menu:K', messageType: 'text' },
    });
  });
});
