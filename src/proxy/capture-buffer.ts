/** Size of the slabs a long response is copied into. */
const SLAB = 16 * 1024;

/**
 * The analysis copy of one exchange, built while the response streams: the request bytes, then
 * each response chunk copied in as it passes. Copying on arrival (rather than keeping the chunks)
 * lets every chunk die young, so a long stream does not carry hundreds of live buffers into the
 * old generation. The copy goes into a few 16 KiB slabs, joined once at the end, so a stream
 * holds at most one partly filled slab beyond its bytes (growing one buffer by doubling would
 * hold up to twice them: 1,000 streams of 34 KiB held 64 MiB instead of 34). A response whose
 * size was announced gets one slab of exactly that size and needs no join.
 * The response part stops at `maxResponse` bytes; `truncated` then says so.
 */
export class CaptureBuffer {
  private readonly slabs: Buffer[] = [];
  private slab: Buffer;
  private used: number;
  private length: number;
  readonly requestBytes: number;
  truncated = false;

  constructor(
    request: Buffer | undefined,
    /** Response size when the upstream announced it (content-length), else 0. */
    expectedResponse: number,
    private readonly maxResponse: number,
  ) {
    this.requestBytes = request?.length ?? 0;
    const first = this.requestBytes + Math.min(expectedResponse > 0 ? expectedResponse : SLAB, maxResponse);
    // Its own allocation, not a slice of Node's shared pool, so it is freed on its own.
    this.slab = Buffer.allocUnsafeSlow(Math.max(first, 1));
    if (request) request.copy(this.slab, 0);
    this.used = this.requestBytes;
    this.length = this.requestBytes;
  }

  append(chunk: Buffer): void {
    if (this.truncated) return;
    const room = this.maxResponse - (this.length - this.requestBytes);
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    this.length += chunk.length;
    while (chunk.length > 0) {
      if (this.used === this.slab.length) {
        this.slabs.push(this.slab);
        this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB, Math.min(chunk.length, this.maxResponse)));
        this.used = 0;
      }
      const n = chunk.copy(this.slab, this.used);
      this.used += n;
      chunk = chunk.subarray(n);
    }
  }

  /** The request bytes followed by the response bytes captured so far. */
  bytes(): Buffer {
    if (this.slabs.length === 0) return this.slab.subarray(0, this.used);
    return Buffer.concat([...this.slabs, this.slab.subarray(0, this.used)], this.length);
  }
}
