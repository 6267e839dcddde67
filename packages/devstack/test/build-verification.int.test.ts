import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ensureFerretdb,
  ferretdbBinary,
  goLocations,
  recordedHashFile,
  verifiedGoEnv,
} from '../src/ferretdb-build';
import { mavenFetchArgs } from '../src/kafka-broker';
import { repoRoot } from '../src/repo-paths';

const work = mkdtempSync(join(tmpdir(), 'wxp-build-verification-'));

describe('the FerretDB build', () => {
  it('runs go with checksum verification on, whatever the caller set to turn it off', () => {
    // A go env file is as good a way to turn verification off as a variable.
    const goEnvFile = join(work, 'go.env');
    writeFileSync(goEnvFile, 'GONOSUMDB=*\nGOFLAGS=-mod=mod\nGOINSECURE=*\n');
    const hostile: NodeJS.ProcessEnv = {
      ...process.env,
      GOENV: goEnvFile,
      GOFLAGS: '-mod=mod -insecure',
      GONOSUMDB: '*',
      GONOSUMCHECK: '1',
      GOINSECURE: '*',
      GOPRIVATE: '*',
      GONOPROXY: '*',
      GOSUMDB: 'off',
      GOWORK: join(work, 'go.work'),
    };
    const env = verifiedGoEnv(hostile, goLocations(hostile));
    const result = spawnSync(
      'go',
      ['env', '-json', 'GOFLAGS', 'GONOSUMDB', 'GOINSECURE', 'GOPRIVATE', 'GONOPROXY', 'GOSUMDB', 'GOWORK'],
      { env, encoding: 'utf8', cwd: work },
    );
    expect(result.status).toBe(0);
    const seen = JSON.parse(result.stdout) as Record<string, string>;
    expect(seen.GOFLAGS).toContain('-mod=readonly');
    expect(seen.GOFLAGS).not.toContain('insecure');
    expect(seen.GONOSUMDB).toBe('');
    expect(seen.GOINSECURE).toBe('');
    expect(seen.GOPRIVATE).toBe('');
    expect(seen.GONOPROXY).toBe('');
    expect(seen.GOSUMDB).toBe('sum.golang.org');
    expect(seen.GOWORK).toBe('off');
    expect(env.GONOSUMCHECK).toBeUndefined();
    // Where modules come from stays the machine's: this machine may reach only a registry mirror.
    expect(env.GOPROXY).toBe(goLocations(process.env).GOPROXY);
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('rebuilds a cached binary that does not match the hash recorded after its build', async () => {
    const previous = process.env.WXP_CACHE_DIR;
    process.env.WXP_CACHE_DIR = join(work, 'cache');
    try {
      const builds: string[] = [];
      const build = async (binary: string) => {
        builds.push(binary);
        writeFileSync(binary, `built ${builds.length}\n`);
      };
      const lines: string[] = [];
      const report = (line: string) => lines.push(line);

      // A binary planted under the expected name, with no hash recorded for it: not trusted.
      const binary = ferretdbBinary();
      mkdirSync(dirname(binary), { recursive: true });
      writeFileSync(binary, 'planted\n');
      expect(await ensureFerretdb(report, build)).toBe(binary);
      expect(builds).toEqual([binary]);
      expect(readFileSync(binary, 'utf8')).toBe('built 1\n');

      // Built and recorded: used as it is.
      await ensureFerretdb(report, build);
      expect(builds).toHaveLength(1);

      // Changed after its build: built again.
      writeFileSync(binary, 'tampered\n');
      await ensureFerretdb(report, build);
      expect(builds).toHaveLength(2);
      expect(readFileSync(binary, 'utf8')).toBe('built 2\n');
      expect(lines.join('\n')).toContain('does not match the hash recorded');

      // Its record lost: built again.
      rmSync(recordedHashFile(binary));
      await ensureFerretdb(report, build);
      expect(builds).toHaveLength(3);
    } finally {
      if (previous === undefined) delete process.env.WXP_CACHE_DIR;
      else process.env.WXP_CACHE_DIR = previous;
    }
  });
});

describe('the Kafka fetch', () => {
  it('runs Maven with strict checksums and a pinned dependency plugin', () => {
    expect(mavenFetchArgs('pom.xml', 'out')).toContain('--strict-checksums');
    const pom = readFileSync(join(repoRoot(), 'infra', 'kafka', 'pom.xml'), 'utf8');
    expect(pom).toMatch(
      /<artifactId>maven-dependency-plugin<\/artifactId>\s*<version>\d+\.\d+\.\d+<\/version>/,
    );
  });
});
