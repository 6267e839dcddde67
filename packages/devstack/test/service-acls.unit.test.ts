import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AclOperationTypes, AclResourceTypes, type Kafka } from 'kafkajs';
import { AclsNotApplied, aclsOf, grantServiceAcls, serviceGrants } from '../src/service-acls';

const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');

/** The cells of README's ACL table row of a service: writes, reads, groups. */
function readmeRow(service: string): string[] {
  const line = readme.split('\n').find((l) => l.startsWith(`| \`${service}\``));
  if (!line) throw new Error(`README has no ACL row for ${service}`);
  return line
    .split('|')
    .slice(2, -1)
    .map((cell) => cell.trim());
}

/** Topic names a cell names, with "the .dlq of each topic it reads" spelt out. */
function topicsIn(cell: string, reads: string[]): string[] {
  const named = [...cell.matchAll(/`([a-z0-9][a-z0-9.]*)`/g)].map((m) => m[1]!);
  return cell.includes('`.dlq` of each topic it reads') ? [...named, ...reads.map((t) => `${t}.dlq`)] : named;
}

describe('the ACLs of each service', () => {
  it.each(Object.entries(serviceGrants))('are what README lists for %s', (service, grants) => {
    const [writes, reads, groups] = readmeRow(service);
    expect(new Set(topicsIn(reads!, []))).toEqual(new Set(grants.reads));
    expect(new Set(topicsIn(writes!, grants.reads))).toEqual(new Set(grants.writes));
    if (grants.reads.length > 0) expect(groups).toBe(`\`${grants.groupPrefix}\``);
    else expect(groups).toBe('none');
  });

  it('grant nothing beyond reading, writing and describing named topics, and reading its own groups', () => {
    for (const service of Object.keys(serviceGrants)) {
      for (const acl of aclsOf(service)) {
        expect(acl.principal).toBe(`User:${service}`);
        expect([AclResourceTypes.TOPIC, AclResourceTypes.GROUP]).toContain(acl.resourceType);
        expect([AclOperationTypes.READ, AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE]).toContain(
          acl.operation,
        );
        expect(acl.resourceName).not.toBe('*');
      }
    }
  });
});

/** An admin client whose broker shows the created ACLs only after `describesBeforeApplied` looks. */
function brokerApplyingLate(describesBeforeApplied: number) {
  const created: ReturnType<typeof aclsOf> = [];
  let describes = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    createAcls: async ({ acl }: { acl: ReturnType<typeof aclsOf> }) => {
      created.push(...acl);
      return true;
    },
    describeAcls: async () => {
      describes += 1;
      const shown = describes > describesBeforeApplied ? created : created.slice(1);
      return {
        throttleTime: 0,
        errorCode: 0,
        resources: shown.map(({ resourceType, resourceName, resourcePatternType, ...acl }) => ({
          resourceType,
          resourceName,
          resourcePatternType,
          acls: [acl],
        })),
      };
    },
  };
  return { kafka: { admin: () => admin } as unknown as Kafka, describes: () => describes };
}

describe('granting the service ACLs', () => {
  it('returns only once the broker shows every granted ACL', async () => {
    const broker = brokerApplyingLate(3);
    await grantServiceAcls(broker.kafka, ['gateway'], { pollMs: 1 });
    expect(broker.describes()).toBe(4);
  });

  it('says how many ACLs the broker still lacks when it never shows them', async () => {
    const broker = brokerApplyingLate(Number.POSITIVE_INFINITY);
    await expect(grantServiceAcls(broker.kafka, ['gateway'], { timeoutMs: 20, pollMs: 1 })).rejects.toThrow(
      new AclsNotApplied(1, 20).message.replace('20 ms', ''),
    );
  });
});
