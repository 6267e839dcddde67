import { Topics } from '@wxp/contracts';
import { createKafka } from '@wxp/kafka';
import pino from 'pino';

type Admin = ReturnType<ReturnType<typeof createKafka>['admin']>;

/** A broker admin connection for following consumer groups' committed offsets. */
export async function progressAdmin(brokers: string[]): Promise<Admin> {
  const admin = createKafka({
    brokers,
    clientId: 'bench-progress',
    logger: pino({ level: 'silent' }),
  }).admin();
  await admin.connect();
  return admin;
}

/** Events on wechat.events.v1 right now, summed over the partitions. */
export async function topicEvents(admin: Admin): Promise<number> {
  return (await admin.fetchTopicOffsets(Topics.events)).reduce((sum, o) => sum + Number(o.high), 0);
}

/** Events the group has committed on wechat.events.v1, summed over the partitions. */
export async function committedEvents(admin: Admin, groupId: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [Topics.events] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}
