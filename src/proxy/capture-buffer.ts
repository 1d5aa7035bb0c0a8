/** Size of the slabs a capture is copied into. */
export const SLAB = 16 * 1024;
/** Free slabs kept for reuse: at most 8 MiB. */
const POOL_MAX = 512;
const pool: Buffer[] = [];

function takeSlab(): Buffer {
  // Its own allocation, not a slice of Node's shared pool, so it can be handed on whole.
  return pool.pop() ?? Buffer.allocUnsafeSlow(SLAB);
}

/** How many free slabs the pool holds now (for tests and diagnostics). */
export function pooledSlabs(): number {
  return pool.length;
}

/**
 * The analysis copy of one exchange, built while the response streams: the request bytes, then
 * each response chunk copied in as it passes. Copying on arrival (rather than keeping the chunks)
 * lets every chunk die young. The copy goes into 16 KiB slabs taken from a process-wide pool and
 * given back by `take()`, so in steady state a capture allocates no memory outside the JS heap
 * that could outlive it.
 *
 * Why a pool: a slab lives as long as its response, so a streamed answer's slabs outlive a
 * young-generation collection or two and are promoted. V8 counts external memory (ArrayBuffers)
 * gained since the last full collection against the old generation's limit, and a few MiB of
 * promoted slabs per wave of finishing streams made it start a mark-compact about once a second,
 * each one stalling the event loop for 10 to 30 ms (see the issue notes for the measurements).
 * Reused slabs never become garbage.
 *
 * A slab that is never given back (an exchange abandoned before `take()`) is simply collected.
 * The response part stops at `maxResponse` bytes; `truncated` then says so.
 */
export class CaptureBuffer {
  private slabs: Buffer[] = [];
  private slab: Buffer | undefined;
  private used = 0;
  private length = 0;
  readonly requestBytes: number;
  truncated = false;
  private taken = false;

  constructor(
    request: Buffer | undefined,
    private readonly maxResponse: number,
  ) {
    this.requestBytes = request?.length ?? 0;
    if (request) this.copyIn(request);
  }

  append(chunk: Buffer): void {
    if (this.truncated || this.taken) return;
    const room = this.maxResponse - (this.length - this.requestBytes);
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    this.copyIn(chunk);
  }

  private copyIn(chunk: Buffer): void {
    this.length += chunk.length;
    while (chunk.length > 0) {
      if (this.slab === undefined || this.used === SLAB) {
        if (this.slab) this.slabs.push(this.slab);
        this.slab = takeSlab();
        this.used = 0;
      }
      const n = chunk.copy(this.slab, this.used);
      this.used += n;
      chunk = chunk.subarray(n);
    }
  }

  /** Bytes captured: the request's, then the response's. */
  get byteLength(): number {
    return this.length;
  }

  /** Copies the captured bytes into `target` at `at`; returns how many were copied. */
  copyTo(target: Buffer, at: number): number {
    const start = at;
    for (const s of this.slabs) at += s.copy(target, at, 0, SLAB);
    if (this.slab) at += this.slab.copy(target, at, 0, this.used);
    return at - start;
  }

  /** Gives the slabs back to the pool; afterwards the capture is empty and takes no more chunks. */
  release(): void {
    this.taken = true;
    for (const s of this.slabs) if (pool.length < POOL_MAX) pool.push(s);
    if (this.slab && pool.length < POOL_MAX) pool.push(this.slab);
    this.slabs = [];
    this.slab = undefined;
    this.used = 0;
    this.length = 0;
  }

  /** The captured bytes in a buffer of their own; the slabs go back to the pool (see release). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.copyTo(out, 0);
    this.release();
    return out;
  }
}
