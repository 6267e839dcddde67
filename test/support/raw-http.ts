import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  answer: string;
  /** Whether the server closed the connection before the deadline. */
  closed: boolean;
}

/**
 * Talks HTTP over a raw socket to 127.0.0.1, as a hostile client does: sends `head` (request line,
 * headers, perhaps part of a body), then, when `dribbleEveryMs` is given, one more byte at that pace.
 * Resolves once the server closes the connection, or at `deadlineMs` with `closed: false`.
 */
export function rawExchange(
  port: number,
  head: string,
  options: { dribbleEveryMs?: number; deadlineMs: number },
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const ticker =
      options.dribbleEveryMs === undefined
        ? undefined
        : setInterval(() => socket.writable && socket.write('a'), options.dribbleEveryMs);
    const finish = (closed: boolean) => {
      clearInterval(ticker);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ answer, closed });
    };
    const deadline = setTimeout(() => finish(false), options.deadlineMs);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (data) => (answer += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}
