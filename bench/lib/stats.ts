/** Medians, timing and formatting shared by the benchmarks. */

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Run fn `reps` times (after `warmup` untimed runs), returning each run's milliseconds. */
export async function timeReps(reps: number, fn: (rep: number) => unknown | Promise<unknown>, opts: { warmup?: number; before?: (rep: number) => unknown } = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = -(opts.warmup ?? 0); i < reps; i++) {
    await opts.before?.(i);
    const t0 = performance.now();
    await fn(i);
    const ms = performance.now() - t0;
    if (i >= 0) out.push(ms);
  }
  return out;
}

export const fmtMs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const fmtMBs = (bytes: number, ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
export const fmtRatio = (x: number): string => `${x.toFixed(2)}x`;
export const fmtMB = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

/** A markdown table; cells are already formatted. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** "met" / "MISSED by N%" for a goal that the value must stay at or under (or at or over). */
export function verdict(value: number, goal: number, direction: 'max' | 'min'): string {
  const ok = direction === 'max' ? value <= goal : value >= goal;
  if (ok) return 'met';
  const by = direction === 'max' ? value / goal - 1 : 1 - value / goal;
  return `MISSED by ${(by * 100).toFixed(0)}%`;
}
