/**
 * Raw HTTP/1.1 over a socket, for requests no client library would send: bad framing, invalid
 * bytes, a client that goes away mid-request. What the server answered is read from the bytes.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawAnswer {
  /** The status of the first answer, if one came. */
  status: number | undefined;
  /** The body of the first answer (de-chunked). */
  body: string;
  /** Everything the server sent. */
  text: string;
}

/**
 * How the client ends: `answer` waits for the first answer (or for the server to close);
 * `destroy` goes away as soon as it has written (mid-request if the bytes are incomplete);
 * `destroyAfter` goes away after that many milliseconds, answer or not.
 */
export type RawEnding =
  | { kind: 'answer' }
  | { kind: 'destroy' }
  | { kind: 'destroyAfter'; ms: number };

/**
 * The first answer in `data`: its status and body (de-chunked), and whether it is complete (its
 * head, and as much body as Content-Length or the chunks say).
 */
function firstAnswer(data: Buffer): { status?: number; body: string; complete: boolean } {
  // An interim answer (100 Continue) comes before the answer.
  const interim = /^HTTP\/1\.[01] 1\d\d [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n/.exec(
    data.toString('latin1'),
  );
  if (interim) return firstAnswer(data.subarray(interim[0].length));
  const end = data.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1'))?.[1];
  if (end < 0)
    return { status: status === undefined ? undefined : Number(status), body: '', complete: false };
  const head = data.subarray(0, end).toString('latin1');
  const rest = data.subarray(end + 4);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  const answer = (body: Buffer, complete: boolean) => ({
    status: Number(status),
    body: body.toString('utf8'),
    complete,
  });
  if (length !== undefined) {
    return answer(rest.subarray(0, Number(length)), rest.length >= Number(length));
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const line = rest.indexOf('\r\n', at);
      if (line < 0) return answer(Buffer.concat(chunks), false);
      const size = Number.parseInt(rest.subarray(at, line).toString('latin1'), 16);
      if (size === 0) return answer(Buffer.concat(chunks), rest.length >= line + 4);
      chunks.push(rest.subarray(line + 2, line + 2 + size));
      at = line + 2 + size + 2;
    }
  }
  // No length: a status without a body (204, 304), else it ends when the server closes.
  return answer(rest, /^HTTP\/1\.[01] (204|304)/.test(head));
}

/**
 * Writes `parts` one after another (each its own write) to 127.0.0.1:`port`, then ends as
 * `ending` says. Rejects if the server neither answers nor closes within `timeoutMs`.
 */
export function rawExchange(
  port: number,
  parts: (string | Buffer)[],
  ending: RawEnding = { kind: 'answer' },
  timeoutMs = 5_000,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const result = (): RawAnswer => {
      const data = Buffer.concat(chunks);
      const { status, body } = firstAnswer(data);
      return { status, body, text: data.toString('latin1') };
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No answer within ${timeoutMs} ms to:\n${JSON.stringify(parts.join(''))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (ending.kind === 'answer' && firstAnswer(Buffer.concat(chunks)).complete) socket.destroy();
    });
    // The server may reset a connection it refuses while the client still writes.
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(result());
    });
    socket.once('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        await new Promise<void>((written) => socket.write(part, () => written()));
      }
      if (ending.kind === 'destroy') socket.destroy();
      else if (ending.kind === 'destroyAfter') {
        await sleep(ending.ms);
        socket.destroy();
      }
    });
  });
}
