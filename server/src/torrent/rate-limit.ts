/**
 * A shared upload cap for outside peers: each block waits until the bytes sent so far fit in
 * `bytesPerSecond` (with half a second of burst). 0 means no cap.
 */
export class RateLimiter {
  private next = 0;

  constructor(private readonly bytesPerSecond: number) {}

  async take(bytes: number): Promise<void> {
    if (this.bytesPerSecond <= 0) return;
    const now = Date.now();
    this.next = Math.max(this.next, now - 500) + (bytes * 1000) / this.bytesPerSecond;
    const wait = this.next - now;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** An IPv4 address as the tracker and the ledger write it (no ::ffff: prefix). */
export function plainIp(addr: string | undefined): string {
  return (addr ?? '?').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
