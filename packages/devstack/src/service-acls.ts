import { Topics, deadLetterTopicOf } from '@wxp/contracts';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type Kafka,
} from 'kafkajs';

/**
 * What each deployable may do on the brokers, and nothing more: README's ACL table is this table.
 * Consumer groups are granted by prefix, since a service's behaviours run in groups named after it
 * (`menu-responder`, `menu-responder-rules`, …) and the gateway's rule feed takes a new group per
 * instance. Writing a topic also lets the idempotent producer start (Kafka 2.8 and later).
 */
export interface ServiceGrants {
  writes: string[];
  reads: string[];
  /** Group names granted by prefix. */
  groupPrefix: string;
}

const readingWithDeadLetters = (
  reads: string[],
  writes: string[] = [],
): Omit<ServiceGrants, 'groupPrefix'> => ({
  reads,
  writes: [...writes, ...reads.map(deadLetterTopicOf)],
});

export const serviceGrants: Record<string, ServiceGrants> = {
  gateway: { writes: [Topics.events], reads: [Topics.admin], groupPrefix: 'gateway-reply-rules-' },
  'admin-api': { writes: [Topics.admin, Topics.events], reads: [], groupPrefix: 'admin-api' },
  'subscriber-projection': {
    ...readingWithDeadLetters([Topics.events]),
    groupPrefix: 'subscriber-projection',
  },
  'qr-attribution': {
    ...readingWithDeadLetters([Topics.events, Topics.admin]),
    groupPrefix: 'qr-attribution',
  },
  'menu-responder': {
    ...readingWithDeadLetters([Topics.events, Topics.admin], [Topics.events]),
    groupPrefix: 'menu-responder',
  },
  'profile-enricher': {
    ...readingWithDeadLetters([Topics.events, Topics.profiles, Topics.admin], [Topics.profiles]),
    groupPrefix: 'profile-enricher',
  },
};

/** The ACLs of one service's principal (`User:<service>` unless told otherwise), as kafkajs takes them. */
export function aclsOf(service: string, principal = `User:${service}`) {
  const grants = serviceGrants[service];
  if (!grants) throw new Error(`no grants are declared for ${service}`);
  const allow = (
    resourceType: AclResourceTypes,
    resourceName: string,
    operation: AclOperationTypes,
    resourcePatternType = ResourcePatternTypes.LITERAL,
  ) => ({
    resourceType,
    resourceName,
    resourcePatternType,
    principal,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  const unique = (names: string[]) => [...new Set(names)];
  return [
    ...unique(grants.writes).flatMap((topic) => [
      allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.WRITE),
      allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.DESCRIBE),
    ]),
    ...unique(grants.reads).flatMap((topic) => [
      allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.READ),
      allow(AclResourceTypes.TOPIC, topic, AclOperationTypes.DESCRIBE),
    ]),
    ...(grants.reads.length > 0
      ? [
          allow(
            AclResourceTypes.GROUP,
            grants.groupPrefix,
            AclOperationTypes.READ,
            ResourcePatternTypes.PREFIXED,
          ),
        ]
      : []),
  ];
}

export class AclsNotApplied extends Error {
  constructor(missing: number, waitedMs: number) {
    super(`the broker still lacked ${missing} of the granted ACLs after ${waitedMs} ms`);
    this.name = 'AclsNotApplied';
  }
}

type Acl = ReturnType<typeof aclsOf>[number];
const aclKey = (acl: Omit<Acl, 'host'>) =>
  [
    acl.principal,
    acl.resourceType,
    acl.resourceName,
    acl.resourcePatternType,
    acl.operation,
    acl.permissionType,
  ].join('\u0000');

/**
 * Grants every service its ACLs, through a client of a super user, and returns once the broker
 * authorizes by them. A KRaft broker applies a committed ACL record from its metadata log a moment
 * after CreateAcls answers; a service started in that moment is refused its topics for good. On
 * several brokers this waits for the one that answers DescribeAcls; the others apply the same
 * record from the same log.
 */
export async function grantServiceAcls(
  kafka: Kafka,
  services = Object.keys(serviceGrants),
  { timeoutMs = 30_000, pollMs = 100 } = {},
): Promise<void> {
  const wanted = services.flatMap((service) => aclsOf(service));
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: wanted });
    const started = Date.now();
    for (;;) {
      const described = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      const present = new Set(
        described.resources.flatMap((resource) =>
          resource.acls.map((acl) => aclKey({ ...resource, ...acl })),
        ),
      );
      const missing = wanted.filter((acl) => !present.has(aclKey(acl))).length;
      if (missing === 0) return;
      const waited = Date.now() - started;
      if (waited >= timeoutMs) throw new AclsNotApplied(missing, waited);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await admin.disconnect();
  }
}
