import { Transform, type TransformCallback } from 'node:stream';
import { isObject } from './wire.js';

/**
 * `capture.injectStreamUsage`: OpenAI streams report token usage only when the client asks for it
 * (`stream_options.include_usage`). The proxy may ask on the client's behalf and then remove the
 * extra usage chunk, so the client sees the stream it asked for and the capture still has usage.
 */

/**
 * The request body with `stream_options.include_usage: true` added, or null when it is not an
 * OpenAI chat/completions streaming request or already asks for usage (leave the bytes alone).
 */
export function injectIncludeUsage(body: Buffer): Buffer | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(parsed) || parsed.stream !== true) return null;
  if (!Array.isArray(parsed.messages) && parsed.prompt === undefined) return null;
  const options = parsed.stream_options;
  if (isObject(options) && options.include_usage === true) return null;
  if (options === undefined) {
    // Splice the field in so every other byte (number formatting, key order) reaches upstream as sent.
    const text = body.toString('utf8');
    const open = text.indexOf('{');
    const rest = text.slice(open + 1);
    const separator = /^\s*}/.test(rest) ? '' : ',';
    return Buffer.from(`${text.slice(0, open + 1)}"stream_options":{"include_usage":true}${separator}${rest}`, 'utf8');
  }
  const merged = { ...parsed, stream_options: { ...(isObject(options) ? options : {}), include_usage: true } };
  return Buffer.from(JSON.stringify(merged), 'utf8');
}

const LF = 0x0a;
const CR = 0x0d;
const USAGE = Buffer.from('"usage"');

/**
 * Passes an SSE byte stream through unchanged except for the usage-only chunk
 * (`data: {…,"choices":[],"usage":{…}}`). Holds back at most the one event not yet terminated.
 */
export function createUsageChunkStripper(): Transform {
  let pending: Buffer | undefined;
  // Bytes of `pending` already scanned without finding the end of its event.
  let scanned = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let emitFrom = 0;
      let eventStart = 0;
      let i = pending ? scanned : 0;
      // indexOf runs in native code; most streams have no CR at all, so its position is found once.
      let nextCR = buf.indexOf(CR, i);
      while (i < buf.length) {
        if (nextCR !== -1 && nextCR < i) nextCR = buf.indexOf(CR, i);
        const nextLF = buf.indexOf(LF, i);
        if (nextLF === -1 && nextCR === -1) {
          i = buf.length;
          break;
        }
        i = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
        const b = buf[i]!;
        // A line terminator: CRLF, LF or CR. A CR at the end may be half of a CRLF; wait for more.
        if (b === CR && i + 1 >= buf.length) break;
        const lineEnd = i + (b === CR && buf[i + 1] === LF ? 2 : 1);
        const next = buf[lineEnd];
        if (next === undefined) break;
        if (next !== LF && next !== CR) {
          i = lineEnd;
          continue;
        }
        // An empty line ends the event; its own CR may still be half of a CRLF.
        if (next === CR && lineEnd + 1 >= buf.length) break;
        const eventEnd = lineEnd + (next === CR && buf[lineEnd + 1] === LF ? 2 : 1);
        if (isUsageOnlyEvent(buf, eventStart, eventEnd)) {
          if (eventStart > emitFrom) this.push(buf.subarray(emitFrom, eventStart));
          emitFrom = eventEnd;
        }
        eventStart = eventEnd;
        i = eventEnd;
      }
      if (eventStart > emitFrom) this.push(buf.subarray(emitFrom, eventStart));
      pending = eventStart < buf.length ? Buffer.from(buf.subarray(eventStart)) : undefined;
      scanned = pending ? Math.max(0, i - eventStart) : 0;
      callback();
    },
    flush(callback: TransformCallback) {
      if (pending) this.push(pending);
      pending = undefined;
      callback();
    },
  });
}

function isUsageOnlyEvent(buf: Buffer, start: number, end: number): boolean {
  const found = buf.subarray(start, end).indexOf(USAGE);
  if (found < 0) return false;
  const at = start + found;
  // Every chunk of a usage stream says "usage":null; only an object is worth parsing.
  let v = at + USAGE.length;
  while (v < end && (buf[v] === 0x20 || buf[v] === 0x3a || buf[v] === 0x09)) v++;
  if (buf[v] !== 0x7b) return false;
  const data = buf
    .toString('utf8', start, end)
    .split(/\r\n|\r|\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
  try {
    const chunk: unknown = JSON.parse(data);
    return isObject(chunk) && Array.isArray(chunk.choices) && chunk.choices.length === 0 && isObject(chunk.usage);
  } catch {
    return false;
  }
}
