import { createWriteStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { MongoConnection } from '@wxp/mongo';
import type { EventOpener } from '@wxp/privacy';
import { columns } from './columns';
import { EventRows } from './event-rows';
import { NdjsonWriter } from './ndjson-writer';
import { ParquetWriter } from './parquet-writer';
import type { RowWriter } from './row-writer';
import { unpack, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol';

// The rows' half of an export, in a thread of its own: parsing, opening, encoding and writing run
// beside the main thread's reading from the broker, on another core.
const init = workerData as WorkerInit;
const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);

async function start(): Promise<void> {
  let mongo: MongoConnection | undefined;
  let opener: EventOpener | undefined;
  if (init.decrypt) {
    // Loaded only to decrypt: the store's driver is most of what a worker would load otherwise.
    const { connectMongo } = await import('@wxp/mongo');
    const { DataKeyStore, EventOpener } = await import('@wxp/privacy');
    mongo = await connectMongo(init.decrypt.mongoUrl, 'log-export');
    // Decrypted when a column reads it: what no column takes (the push's other fields) stays sealed.
    opener = new EventOpener(new DataKeyStore(mongo.db, init.decrypt.privacyKey), { openOnRead: true });
  }
  const file = createWriteStream(init.path, { flags: init.flags, mode: 0o600 });
  const writer: RowWriter =
    init.format === 'parquet' ? new ParquetWriter(file, columns) : new NdjsonWriter(file);
  const maker = new EventRows(init.filter, opener);
  // Batches are handled one after another, in the order they came.
  let queue = Promise.resolve();
  let failed = false;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    send({ kind: 'failed', message: (error as Error).message });
  };
  port.on('message', (message: ToWorker) => {
    queue = queue.then(async () => {
      if (failed) return;
      try {
        if (message.kind === 'batch') {
          await writer.write(await maker.rowsOf(message.topic, message.partition, unpack(message)));
          send({ kind: 'done', rows: maker.counts.rows });
        } else {
          const { bytes } = await writer.close();
          await mongo?.close();
          send({ kind: 'finished', counts: maker.counts, bytes });
        }
      } catch (error) {
        fail(error);
      }
    });
  });
}

start().catch((error: unknown) => send({ kind: 'failed', message: (error as Error).message }));
