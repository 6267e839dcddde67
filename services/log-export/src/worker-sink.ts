import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoggedEvent } from './event-rows';
import type { RowSink, SinkResult } from './row-sink';
import { pack, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol';

/** Batches handed over and not yet written, at most: enough to keep both threads busy, bounded memory. */
const MAX_IN_FLIGHT = 8;

/** The worker ended the export: its message names what failed, never what it read. */
export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
}

/**
 * Rows made and written by a worker thread, so that reading from the broker (the main thread) and
 * making rows overlap on two cores; the main thread only copies each batch's candidates into one
 * buffer it hands over.
 */
export class WorkerSink implements RowSink {
  private readonly worker: Worker;
  private inFlight = 0;
  private written = 0;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  private ending: { resolve: (result: SinkResult) => void; reject: (error: Error) => void } | undefined;

  constructor(init: WorkerInit) {
    this.worker = new Worker(join(__dirname, 'row-worker.js'), { workerData: init });
    this.worker.on('message', (message: FromWorker) => this.received(message));
    this.worker.on('error', (error) => this.failed(error));
    this.worker.on('exit', (code) => {
      if (this.ending || this.failure) return;
      this.failed(new WorkerFailedError(`the row worker ended early (exit code ${code})`));
    });
  }

  get rows(): number {
    return this.written;
  }

  private received(message: FromWorker): void {
    switch (message.kind) {
      case 'done':
        this.inFlight -= 1;
        this.written = message.rows;
        this.wake();
        return;
      case 'finished':
        this.ending?.resolve({ ...message.counts, bytes: message.bytes });
        return;
      case 'failed':
        this.failed(new WorkerFailedError(message.message));
        return;
    }
  }

  private failed(error: Error): void {
    this.failure ??= error;
    this.ending?.reject(this.failure);
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  async handle(topic: string, partition: number, candidates: LoggedEvent[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (candidates.length === 0) return;
    while (this.inFlight >= MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => (this.waiting = resolve));
      if (this.failure) throw this.failure;
    }
    const batch = pack(topic, partition, candidates);
    this.inFlight += 1;
    this.post(batch, [batch.positions.buffer, batch.values.buffer, batch.ends.buffer] as ArrayBuffer[]);
  }

  async finish(): Promise<SinkResult> {
    try {
      if (this.failure) throw this.failure;
      const ended = new Promise<SinkResult>((resolve, reject) => (this.ending = { resolve, reject }));
      this.post({ kind: 'finish' });
      return await ended;
    } finally {
      await this.worker.terminate();
    }
  }

  /** Stops at once: what is queued is dropped with the file, which the caller removes. */
  async abort(): Promise<void> {
    this.ending ??= { resolve: () => undefined, reject: () => undefined };
    await this.worker.terminate();
  }
}
