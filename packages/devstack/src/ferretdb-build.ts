import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireTool, runToCompletion } from './build-command';
import type { Report } from './kafka-broker';
import { cacheDir, repoRoot } from './repo-paths';

/**
 * One change to FerretDB's source before it is built: `find` must occur exactly once, so a different
 * FerretDB version fails the build loudly instead of building something unexamined.
 */
export interface SourceEdit {
  file: string;
  find: string;
  replace: string;
  why: string;
}

/** FerretDB's `{_id: v}` pushdown, written out in Query and again in Explain (there with its flag). */
function idPushdownBlock(explain: boolean): string {
  return [
    '\t// that logic should exist in one place',
    '\t// TODO https://github.com/FerretDB/FerretDB/issues/3235',
    '\tif params.Filter.Len() == 1 {',
    '\t\tv, _ := params.Filter.Get("_id")',
    '\t\tswitch v.(type) {',
    '\t\tcase string, types.ObjectID:',
    ...(explain ? ['\t\t\tfilterPushdown = true'] : []),
    '\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)',
    '\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}',
    '\t\t}',
    '\t}',
    '',
  ].join('\n');
}

/** FerretDB v1.24.2's SQLite backend, changed where it made the read models slow or hung them. */
export const ferretdbSourceEdits: readonly SourceEdit[] = [
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    find: `IDColumn = DefaultColumn + "->'$._id'"`,
    replace: 'IDColumn = DefaultColumn + `->"_id"`',
    why:
      'the unique _id index is built on `_ferretdb_sjson->"_id"`; SQLite only uses an expression index ' +
      'for the same expression, so lookups, updates and deletes by _id read the whole table',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    find: idPushdownBlock(false),
    replace: '\twhereClause, args = idWhereClause(params.Filter)\n',
    why:
      'only a filter that is exactly {_id: v} reached the index; {_id: v, position: p} (a guarded ' +
      'replace) and {_id: {$in: [...]}} (a batch read) scanned every row',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    find: idPushdownBlock(true),
    replace: '\twhereClause, args = idWhereClause(params.Filter)\n\tfilterPushdown = whereClause != ""\n',
    why: 'explain reports the plan the query really gets',
  },
  {
    file: 'internal/handler/msg_update.go',
    find: '\t\tdefer closer.Close()\n',
    replace: '',
    why:
      "each statement's cursor stayed open until the whole update command ended, holding one of the " +
      "database's 100 pooled connections: a command of 100 statements that match, or two concurrent " +
      'commands of 50, waited for a connection for ever and the store stopped answering',
  },
  {
    file: 'internal/handler/msg_update.go',
    find: '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n',
    replace: '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n\t\tcloser.Close()\n',
    why: "closes each statement's cursor as soon as the statement is done",
  },
  {
    file: 'internal/backends/sqlite/metadata/pool/opendb.go',
    find: '\treturn fsql.WrapDB(db, name, l), nil\n',
    replace:
      '\tif !memory {\n\t\tgo truncateWALPeriodically(db, l)\n\t}\n\n\treturn fsql.WrapDB(db, name, l), nil\n',
    why:
      'deleted and overwritten documents stayed in the write-ahead log until enough later writes ' +
      "reset it, so an erased user could be read back from the store's files; a periodic " +
      'TRUNCATE checkpoint empties it',
  },
];

const addedFiles = [
  { from: 'sqlite-backend/id_where_clause.go.in', to: 'internal/backends/sqlite/id_where_clause.go' },
  {
    from: 'sqlite-backend/wal_truncation.go.in',
    to: 'internal/backends/sqlite/metadata/pool/wal_truncation.go',
  },
];

function ferretdbModuleDir(): string {
  return join(repoRoot(), 'infra', 'ferretdb');
}

export function ferretdbVersion(): string {
  const goMod = readFileSync(join(ferretdbModuleDir(), 'go.mod'), 'utf8');
  const match = /github\.com\/FerretDB\/FerretDB (v[0-9][^\s]*)/.exec(goMod);
  if (!match?.[1]) throw new Error('infra/ferretdb/go.mod does not require github.com/FerretDB/FerretDB');
  return match[1];
}

/** Applies the edits to the source text of one file; throws naming the edit that does not fit. */
export function applySourceEdits(file: string, source: string, edits: readonly SourceEdit[]): string {
  let text = source;
  for (const edit of edits.filter((e) => e.file === file)) {
    const occurrences = text.split(edit.find).length - 1;
    if (occurrences !== 1) {
      throw new Error(
        `FerretDB source edit for ${file} expects its text once and found it ${occurrences} times ` +
          `(${edit.why}); is infra/ferretdb/go.mod still on the version these edits were written for?`,
      );
    }
    text = text.replace(edit.find, () => edit.replace);
  }
  return text;
}

/** A short digest of everything that goes into the binary besides the module versions. */
function buildFingerprint(): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(ferretdbSourceEdits));
  for (const name of ['main.go', 'go.mod', 'go.sum', ...addedFiles.map((f) => f.from)]) {
    hash.update(readFileSync(join(ferretdbModuleDir(), name)));
  }
  return hash.digest('hex').slice(0, 10);
}

/** The Go settings that say where modules come from and where they are kept, as the caller's `go env` has them. */
export interface GoLocations {
  GOPROXY: string;
  GOSUMDB: string;
  GOMODCACHE: string;
  GOPATH: string;
  GOCACHE: string;
  GOTOOLCHAIN: string;
}

export function goLocations(env: NodeJS.ProcessEnv = process.env): GoLocations {
  const names = ['GOPROXY', 'GOSUMDB', 'GOMODCACHE', 'GOPATH', 'GOCACHE', 'GOTOOLCHAIN'];
  const result = spawnSync('go', ['env', '-json', ...names], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`go env failed: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as GoLocations;
}

/**
 * The environment every `go` command of the build runs with. GOFLAGS (-mod=mod, -insecure),
 * GONOSUMDB, GOPRIVATE, GONOPROXY, GOINSECURE, GOSUMDB=off, GOWORK or a go env file (GOENV) from the
 * caller could each let a module in without its go.sum hash being checked, so none of them is
 * inherited: every GO* variable is dropped and the build names its own. Where modules come from
 * (GOPROXY, a mirror of the checksum database) and where they are kept stay as the caller has them:
 * a proxy cannot forge what go.sum pins, and on a machine that reaches only a registry mirror the
 * build needs it.
 */
export function verifiedGoEnv(caller: NodeJS.ProcessEnv, locations: GoLocations): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(caller)) {
    if (!name.startsWith('GO') || name === 'GOROOT') env[name] = value;
  }
  const sumdb = locations.GOSUMDB.trim();
  return {
    ...env,
    GOENV: 'off',
    GOFLAGS: '-mod=readonly -buildvcs=false',
    GOWORK: 'off',
    GOPROXY: locations.GOPROXY,
    GOSUMDB: sumdb === '' || sumdb === 'off' ? 'sum.golang.org' : sumdb,
    GONOSUMDB: '',
    GOPRIVATE: '',
    GONOPROXY: '',
    GOINSECURE: '',
    GOMODCACHE: locations.GOMODCACHE,
    GOPATH: locations.GOPATH,
    GOCACHE: locations.GOCACHE,
    GOTOOLCHAIN: locations.GOTOOLCHAIN,
    CGO_ENABLED: '0',
  };
}

function moduleSourceDir(version: string, workDir: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync('go', ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${version}`], {
    cwd: workDir,
    env,
    encoding: 'utf8',
  });
  const parsed = JSON.parse(result.stdout || '{}') as { Dir?: string; Error?: string };
  if (result.status !== 0 || !parsed.Dir) {
    throw new Error(`go mod download FerretDB ${version} failed: ${parsed.Error ?? result.stderr.trim()}`);
  }
  return parsed.Dir;
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The hash recorded beside a binary after a verified build. */
export function recordedHashFile(binary: string): string {
  return `${binary}.sha256`;
}

/** A cached binary is used only when its content still has the hash recorded when it was built. */
export function cachedBinaryMatches(binary: string): boolean {
  const recorded = recordedHashFile(binary);
  if (!existsSync(binary) || !existsSync(recorded)) return false;
  return readFileSync(recorded, 'utf8').trim() === sha256Of(binary);
}

/** Where the binary for this version, these edits and this go.sum is kept. */
export function ferretdbBinary(): string {
  return join(cacheDir(), 'bin', `ferretdb-${ferretdbVersion()}-${buildFingerprint()}`);
}

export type FerretdbBuild = (binary: string, report: Report) => Promise<void>;

/**
 * The FerretDB binary, built on first use (no cgo: SQLite is pure Go) from the module proxy's source
 * with `ferretdbSourceEdits` applied to a copy under the cache directory. A binary in the cache is
 * used only when it matches the hash recorded after its build; otherwise it is built again.
 */
export async function ensureFerretdb(report: Report, build: FerretdbBuild = buildFerretdb): Promise<string> {
  const binary = ferretdbBinary();
  if (cachedBinaryMatches(binary)) return binary;
  if (existsSync(binary)) {
    report(`store: ${binary} does not match the hash recorded when it was built; building it again`);
  }
  rmSync(binary, { force: true });
  rmSync(recordedHashFile(binary), { force: true });
  mkdirSync(dirname(binary), { recursive: true });
  await build(binary, report);
  writeFileSync(recordedHashFile(binary), `${sha256Of(binary)}\n`);
  return binary;
}

async function buildFerretdb(binary: string, report: Report): Promise<void> {
  const version = ferretdbVersion();
  requireTool('go', ['version'], 'install Go 1.24 or newer');
  report(`store: building FerretDB ${version} from the Go module proxy (first run only)`);
  const env = verifiedGoEnv(process.env, goLocations());

  const workDir = join(cacheDir(), `ferretdb-build-${version}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  for (const name of ['main.go', 'go.mod', 'go.sum'])
    cpSync(join(ferretdbModuleDir(), name), join(workDir, name));
  const logFile = join(dirname(binary), `ferretdb-${version}.build.log`);
  // The module cache may hold what an earlier, unverified download put there: every module the
  // build uses is checked against go.sum before its source is trusted.
  await runToCompletion('go', ['mod', 'download'], { cwd: workDir, env, logFile });
  await runToCompletion('go', ['mod', 'verify'], { cwd: workDir, env, logFile });
  const sourceDir = join(workDir, 'FerretDB');
  cpSync(moduleSourceDir(version, workDir, env), sourceDir, { recursive: true });
  makeWritable(sourceDir);
  for (const file of new Set(ferretdbSourceEdits.map((e) => e.file))) {
    const path = join(sourceDir, file);
    writeFileSync(path, applySourceEdits(file, readFileSync(path, 'utf8'), ferretdbSourceEdits));
  }
  for (const { from, to } of addedFiles) cpSync(join(ferretdbModuleDir(), from), join(sourceDir, to));

  await runToCompletion('go', ['mod', 'edit', '-replace=github.com/FerretDB/FerretDB=./FerretDB'], {
    cwd: workDir,
    env,
    logFile,
  });
  const partial = `${binary}.partial`;
  await runToCompletion('go', ['build', '-trimpath', '-o', partial, '.'], { cwd: workDir, env, logFile });
  renameSync(partial, binary);
}

/** The module cache hands out read-only files and folders; the copy is edited in place. */
function makeWritable(dir: string): void {
  const result = spawnSync('chmod', ['-R', 'u+w', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chmod -R u+w ${dir} failed: ${result.stderr.trim()}`);
}
