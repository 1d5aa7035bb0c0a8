import type { Readable, Writable } from 'node:stream';

/**
 * A one-line progress bar on a terminal. Progress is bytes read of the input file, so no
 * counting pass over the file is needed; on a non-terminal (CI, a pipe) it draws nothing.
 */
export class ProgressBar {
  private bytes = 0;
  private rows = 0;
  private lastDraw = 0;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly totalBytes: number | undefined,
    /** Milliseconds between redraws; a redraw per row would cost more than the rows. */
    private readonly intervalMs = 100,
  ) {
    this.enabled = out.isTTY === true;
  }

  /** Counts bytes as the input stream delivers them. */
  track(input: Readable): void {
    if (!this.enabled) return;
    input.on('data', (chunk: Buffer | string) => {
      this.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    });
  }

  tick(): void {
    this.rows++;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 40));
    let line: string;
    if (this.totalBytes !== undefined && this.totalBytes > 0) {
      const share = Math.min(1, this.bytes / this.totalBytes);
      const filled = Math.round(share * width);
      line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${this.rows} rows`;
    } else {
      line = `${this.rows} rows`;
    }
    this.out.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Writes a message line without leaving a half bar in front of it; the bar comes back on the next draw. */
  note(text: string): void {
    if (this.enabled && this.drawn) {
      this.out.write('\r\x1b[K');
      this.drawn = false;
      this.lastDraw = 0;
    }
    this.out.write(text);
  }

  /** Clears the bar so the summary that follows starts on a clean line. */
  done(): void {
    if (this.enabled && this.drawn) this.out.write('\r\x1b[K');
  }
}
