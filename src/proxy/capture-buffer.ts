/**
 * The analysis copy of one exchange, built while the response streams: the request bytes, then
 * each response chunk copied in as it passes. Copying on arrival (rather than keeping the chunks
 * and joining them at the end) lets every chunk die young, so a long stream does not carry
 * hundreds of live buffers into the old generation, and the finished copy needs no final join.
 * The response part stops at `maxResponse` bytes; `truncated` then says so.
 */
export class CaptureBuffer {
  private buf: Buffer;
  private length: number;
  readonly requestBytes: number;
  truncated = false;

  constructor(
    request: Buffer | undefined,
    /** Response size when the upstream announced it (content-length), else a guess. */
    expectedResponse: number,
    private readonly maxResponse: number,
  ) {
    this.requestBytes = request?.length ?? 0;
    const size = this.requestBytes + Math.min(Math.max(expectedResponse, 1024), maxResponse);
    // Its own allocation, not a slice of Node's shared pool, so it can be freed on its own.
    this.buf = Buffer.allocUnsafeSlow(size);
    if (request) request.copy(this.buf, 0);
    this.length = this.requestBytes;
  }

  append(chunk: Buffer): void {
    if (this.truncated) return;
    const room = this.maxResponse - (this.length - this.requestBytes);
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    if (this.length + chunk.length > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.min(Math.max(this.buf.length * 2, this.length + chunk.length), this.requestBytes + this.maxResponse));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.length);
    this.length += chunk.length;
  }

  /** The request bytes followed by the response bytes captured so far. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
