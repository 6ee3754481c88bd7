import { formatBytes } from '../util/format-bytes.js';
import type { ActivityMinute } from '../store/activity-repo.js';
import type { DeviceAvailability } from './availability.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const day = (ms: number): string => new Date(ms).toISOString().slice(5, 10);

/**
 * Sync activity over the last `hours`: one column per minute that moved bytes (received above
 * the axis, sent below), as a standalone SVG. Each column carries data-minute/-in/-out, so a
 * test can compare the picture with the database.
 */
export function activityChartSvg(minutes: ActivityMinute[], now: number, hours = 24): string {
  const width = 400;
  const height = 170;
  const top = 28;
  const mid = top + 60;
  const span = hours * 3_600_000;
  const from = now - span;
  const max = Math.max(1, ...minutes.map((m) => Math.max(m.bytesIn, m.bytesOut)));
  const x = (ms: number) => Math.round(((ms - from) / span) * width * 100) / 100;
  const colW = Math.max(2, width / (hours * 60)); // at least 2 px, so one busy minute shows
  const cols = minutes
    .filter((m) => m.minute >= from - 60_000)
    .map((m) => {
      const hi = Math.max(m.bytesIn > 0 ? 1 : 0, Math.round((m.bytesIn / max) * 56));
      const ho = Math.max(m.bytesOut > 0 ? 1 : 0, Math.round((m.bytesOut / max) * 56));
      const cx = Math.min(width - colW, x(m.minute));
      return (
        `<g class="minute" data-minute="${m.minute}" data-in="${m.bytesIn}" data-out="${m.bytesOut}"><title>${esc(`${hhmm(m.minute)} UTC: received ${formatBytes(m.bytesIn)}, sent ${formatBytes(m.bytesOut)}`)}</title>` +
        `<rect x="${cx}" y="${mid - hi}" width="${colW}" height="${hi}" fill="#8a5a2b"/><rect x="${cx}" y="${mid}" width="${colW}" height="${ho}" fill="#3b6e8f"/></g>`
      );
    });
  const ticks = [0, 6, 12, 18, 24].map((h) => {
    const t = from + (h / 24) * span;
    const anchor = h === 0 ? 'start' : h === 24 ? 'end' : 'middle';
    return `<text x="${x(t)}" y="${mid + 78}" font-size="11" fill="#555" text-anchor="${anchor}">${hhmm(t)}${h === 24 ? ' UTC' : ''}</text>`;
  });
  const totalIn = minutes.reduce((a, m) => a + m.bytesIn, 0);
  const totalOut = minutes.reduce((a, m) => a + m.bytesOut, 0);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" role="img" aria-label="Sync activity, bytes per minute, last ${hours} hours" data-total-in="${totalIn}" data-total-out="${totalOut}">` +
    `<text x="0" y="16" font-size="14" font-weight="600">Sync activity per minute, last ${hours} h</text>` +
    `<text x="${width}" y="16" font-size="11" fill="#555" text-anchor="end">peak ${esc(formatBytes(max))}/min</text>` +
    `<rect x="0" y="${top}" width="${width}" height="120" fill="#f7f2ea"/><line x1="0" x2="${width}" y1="${mid}" y2="${mid}" stroke="#bbb"/>` +
    `<text x="2" y="${top + 12}" font-size="11" fill="#8a5a2b">received ${esc(formatBytes(totalIn))}</text><text x="2" y="${top + 116}" font-size="11" fill="#3b6e8f">sent ${esc(formatBytes(totalOut))}</text>` +
    cols.join('') +
    ticks.join('') +
    `</svg>`
  );
}

/** A device's availability as a strip: one band per day (oldest on top), filled where it was reachable. */
export function availabilityStripSvg(a: DeviceAvailability): string {
  const width = 400;
  const rowH = 14;
  const top = 22;
  const days = Math.max(1, Math.round((a.to - a.from) / 86_400_000));
  const height = top + days * (rowH + 3) + 4;
  const rows: string[] = [];
  const labelW = 44;
  const w = width - labelW;
  for (let i = 0; i < days; i++) {
    const start = a.from + i * 86_400_000;
    const end = start + 86_400_000;
    const y = top + i * (rowH + 3);
    rows.push(`<text x="0" y="${y + 11}" font-size="10" fill="#555">${day(start)}</text><rect x="${labelW}" y="${y}" width="${w}" height="${rowH}" fill="#eee6da"/>`);
    for (const s of a.spans) {
      const f = Math.max(start, s.from);
      const t = Math.min(end, s.to);
      if (t < f) continue;
      const x0 = labelW + ((f - start) / 86_400_000) * w;
      const width0 = Math.max(1, ((t - f) / 86_400_000) * w);
      rows.push(`<rect class="span" data-from="${s.from}" data-to="${s.to}" x="${x0.toFixed(2)}" y="${y}" width="${width0.toFixed(2)}" height="${rowH}" fill="#2e7d32"/>`);
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" role="img" aria-label="${esc(`When ${a.device} was reachable`)}" data-fraction="${a.fraction}">` +
    `<text x="0" y="14" font-size="13" font-weight="600">${esc(`${a.device}: reachable ${(a.fraction * 100).toFixed(1)}% of ${days} days`)}</text>${rows.join('')}</svg>`
  );
}
