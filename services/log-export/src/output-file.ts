import { rmSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './export-options';

async function kindOf(path: string): Promise<'file' | 'directory' | 'other' | undefined> {
  try {
    const found = await stat(path);
    return found.isFile() ? 'file' : found.isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The export's file: written as `<out>.partial` and renamed when complete, so an export that was
 * stopped leaves nothing that looks like a whole file. Owner-only (0600): with --decrypt it holds
 * personal data.
 */
export class OutputFile {
  private constructor(
    readonly path: string,
    readonly partialPath: string,
    private readonly force: boolean,
  ) {}

  /** Refuses a path that exists (unless `force`), a directory, or a folder that does not exist. */
  static async open(out: string, force: boolean): Promise<OutputFile> {
    const path = resolve(out);
    const partialPath = `${path}.partial`;
    if ((await kindOf(dirname(path))) !== 'directory')
      throw new UsageError(`--out ${out}: the folder ${dirname(path)} does not exist`);
    const kind = await kindOf(path);
    if (kind !== undefined && kind !== 'file') throw new UsageError(`--out ${out} is not a file`);
    if (kind === 'file' && !force) throw new UsageError(`--out ${out} exists; pass --force to replace it`);
    const partialKind = await kindOf(partialPath);
    if (partialKind !== undefined && !force)
      throw new UsageError(
        `${partialPath} exists: an export to ${out} is running or was killed; remove it or pass --force`,
      );
    if (partialKind !== undefined && partialKind !== 'file')
      throw new UsageError(`${partialPath} is not a file; it was not replaced`);
    // Removed rather than written over: a file keeps its mode, and an earlier one may be readable
    // by others, where the export (personal data, with --decrypt) must be its owner's alone.
    if (partialKind !== undefined) await rm(partialPath, { force: true });
    return new OutputFile(path, partialPath, force);
  }

  /** How the partial file is created: new, owner-only (an earlier one was removed on opening). */
  get flags(): 'wx' {
    return 'wx';
  }

  /** The file is whole: it takes its name. */
  async complete(): Promise<void> {
    if (!this.force && (await kindOf(this.path)) !== undefined)
      throw new UsageError(`--out ${this.path} appeared while exporting; it was not replaced`);
    await rename(this.partialPath, this.path);
  }

  async discard(): Promise<void> {
    await rm(this.partialPath, { force: true });
  }

  /** For a process about to exit: nothing asynchronous would run. */
  discardNow(): void {
    rmSync(this.partialPath, { force: true });
  }
}
