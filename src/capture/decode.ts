import zlib from 'node:zlib';
import { CaptureError } from './errors.js';

/** The content codings applied to a body, in the order they were applied. */
function codingsOf(encoding: string | undefined): string[] {
  return (encoding ?? '')
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity');
}

/**
 * Undoes the upstream's content-encoding on the captured copy. A RawExchange carries a compressed
 * body as base64 so its bytes survive JSON; a body cut at capture.maxBodyBytes still yields its
 * prefix because every decoder flushes what it has instead of demanding the stream's end.
 */
export function decodeBody(body: string, encoding: string | undefined): string {
  if (codingsOf(encoding).length === 0) return body;
  return decodeBytes(Buffer.from(body, 'base64'), encoding);
}

/** The same for the raw bytes, as the proxy holds them. */
export function decodeBytes(bytes: Buffer, encoding: string | undefined): string {
  const codings = codingsOf(encoding);
  // Codings are listed in the order they were applied; undo them last first.
  for (const coding of codings.reverse()) bytes = decodeOne(bytes, coding);
  return bytes.toString('utf8');
}

function decodeOne(bytes: Buffer, coding: string): Buffer {
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      case 'deflate':
        // RFC 9110 deflate is zlib-wrapped, but some servers send raw deflate; the first byte tells.
        return isZlibHeader(bytes)
          ? zlib.inflateSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
          : zlib.inflateRawSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      case 'br':
        return zlib.brotliDecompressSync(bytes, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
      default:
        throw new CaptureError('VERACITY_CAPTURE_BAD_ENCODING', `content-encoding "${coding}" is not supported`);
    }
  } catch (err) {
    if (err instanceof CaptureError) throw err;
    throw new CaptureError('VERACITY_CAPTURE_BAD_ENCODING', `response body is not valid ${coding}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function isZlibHeader(bytes: Buffer): boolean {
  const cmf = bytes[0] ?? 0;
  const flg = bytes[1] ?? 0;
  return (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}
