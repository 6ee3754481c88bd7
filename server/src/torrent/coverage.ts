/**
 * Which bytes of a torrent one client has been sent, as merged half-open intervals over the
 * concatenated files. A client has downloaded the torrent once every byte was sent to it.
 */
export class Coverage {
  private spans: Array<[number, number]> = [];

  constructor(
    readonly total: number,
    spans: Array<[number, number]> = [],
  ) {
    for (const [a, b] of spans) this.add(a, b);
  }

  /** The merged spans, for the 1-time ledger in SQLite. */
  get spanList(): Array<[number, number]> {
    return this.spans.map(([a, b]) => [a, b]);
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const out: Array<[number, number]> = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.spans) {
      if (b < s || a > e) out.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    out.push([s, e]);
    out.sort((x, y) => x[0] - y[0]);
    this.spans = out;
  }

  complete(): boolean {
    return this.spans.length === 1 && this.spans[0]![0] <= 0 && this.spans[0]![1] >= this.total;
  }

  bytes(): number {
    return this.spans.reduce((n, [a, b]) => n + (b - a), 0);
  }
}
