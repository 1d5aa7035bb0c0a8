/**
 * Bounded label values: configured names always pass, further names are admitted first-come up to
 * a limit, everything after that is `other`. Keeps Prometheus series counts bounded whatever
 * clients send.
 */
export class BoundedLabel {
  private readonly admitted = new Set<string>();
  private readonly fixed: Set<string>;

  constructor(
    fixed: readonly string[],
    private readonly maxExtra: number,
    private readonly fallback = 'other',
  ) {
    this.fixed = new Set(fixed);
  }

  value(raw: string | undefined): string {
    if (raw === undefined || raw === '') return 'unknown';
    const name = raw.length > 120 ? raw.slice(0, 120) : raw;
    if (this.fixed.has(name) || this.admitted.has(name)) return name;
    if (this.admitted.size < this.maxExtra) {
      this.admitted.add(name);
      return name;
    }
    return this.fallback;
  }
}
