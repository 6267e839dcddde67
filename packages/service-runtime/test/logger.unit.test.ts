import { Writable } from 'node:stream';
import { MongoBulkWriteError } from 'mongodb';
import pino from 'pino';
import { loggableError } from '@wxp/service-runtime';

describe('an error in a log line', () => {
  it('shows its type, message, codes and cause, never the documents a store driver carries', () => {
    const refused = new MongoBulkWriteError(
      {
        message: 'document is too large',
        code: 10334,
        writeErrors: [
          { index: 0, code: 10334, errmsg: 'too large', op: { _id: 'p1', openId: 'oSECRET-openid' } },
        ],
      } as never,
      { insertedCount: 0, writeErrors: [] } as never,
    );
    const failure = new Error('batch failed', { cause: refused });
    const lines: string[] = [];
    const logger = pino(
      { serializers: { err: loggableError } },
      new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }),
    );
    logger.warn({ err: refused }, 'batch failed, retrying');
    logger.warn({ err: failure }, 'batch failed, retrying');
    expect(lines.join('')).not.toContain('oSECRET');
    expect(JSON.parse(lines[0]!)).toMatchObject({ err: { type: 'MongoBulkWriteError', code: 10334 } });
    const logged = JSON.parse(lines[1]!) as {
      err: { type: string; message: string; cause: { type: string; code: number } };
    };
    expect(logged.err).toMatchObject({ type: 'Error', message: 'batch failed' });
    expect(logged.err.cause).toMatchObject({ type: 'MongoBulkWriteError', code: 10334 });
  });

  it('shows a thrown value that is not an Error as text', () => {
    expect(loggableError('plain text')).toEqual({ type: 'string', message: 'plain text' });
  });
});
