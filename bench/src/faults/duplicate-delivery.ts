import type { PhaseContext } from '../phase-context';
import { wirePush, followFields, type WirePush } from '../push-corpus';
import { PushSender, withConcurrency } from '../push-sender';
import { whole, type PhaseResult } from '../results';
import { FaultRig } from './fault-rig';

/**
 * Every push delivered three times: twice at once (WeChat's retry racing the first try) and once
 * more after the first answer. Each user follows and clicks; the read model must show each user
 * once, with one follow counted, and the topic must hold each event once.
 */
export async function duplicateDelivery(context: PhaseContext): Promise<PhaseResult> {
  const { scale, log } = context;
  const started = Date.now();
  const account = context.accounts.duplicates;
  const users = scale.count(2000, 200);
  const rig = await FaultRig.start(context, account, 'duplicates');
  const sender = new PushSender(rig.gateway.url);
  const statuses = new Map<number, number>();
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const acknowledged: string[] = [];
  const thrice = async (push: WirePush): Promise<boolean> => {
    const [a, b] = await Promise.all([sender.send(push), sender.send(push)]);
    const c = await sender.send(push);
    for (const answer of [a, b, c]) count(answer.status);
    return a.status === 200 && b.status === 200 && c.status === 200;
  };
  try {
    log(`duplicates: ${whole(users)} users, a follow and a click each, every push three times`);
    await withConcurrency(32, users, async (i) => {
      const openId = `oDup${i}`;
      const now = Math.floor(Date.now() / 1000);
      const follow = wirePush(account, followFields(account, openId, now));
      const click = wirePush(account, {
        ...followFields(account, openId, now + 1),
        Event: 'CLICK',
        EventKey: 'MENU_1',
      });
      if ((await thrice(follow)) && (await thrice(click))) acknowledged.push(openId);
    });
  } finally {
    sender.close();
  }
  const census = await rig.census(acknowledged);
  await rig.stop('every push delivered three times');
  log(`duplicates: ${JSON.stringify(census)}`);
  const notOk = [...statuses].filter(([s]) => s !== 200).reduce((n, [, c]) => n + c, 0);
  return {
    id: 'duplicates',
    title: '5c. Fault: every push delivered three times',
    setup: [
      `${whole(users)} users (32 at a time), each a follow then a menu click; every push sent twice concurrently and once more after those answered: ${whole(users * 6)} requests.`,
    ],
    figures: [
      {
        name: 'triple delivery: pushes lost / doubled (read model follows, topic events)',
        value: `${census.lost} / ${census.doubledInReadModel}, ${census.storedTwice}`,
        target: '0 / 0',
        met: census.lost === 0 && census.doubledInReadModel === 0 && census.storedTwice === 0 && notOk === 0,
      },
      { name: 'answers other than success', value: whole(notOk) },
    ],
    tables: [],
    notes: [],
    seconds: (Date.now() - started) / 1000,
  };
}
