import { formatBytes } from '../util/format-bytes.js';
import type { ChartBar } from './admin-view.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A horizontal bar chart as a standalone SVG (no script, no outside resource, so it passes the
 * strict CSP as an <img>). Each bar carries its figure in data-bytes / data-limit so a test can
 * compare what is drawn with `burrow status --json`.
 */
export function barChartSvg(title: string, bars: ChartBar[]): string {
  // Narrow and stacked (label, bar, figure), so it stays legible scaled down to a phone's width.
  const width = 400;
  const rowH = 48;
  const top = 30;
  const height = top + Math.max(1, bars.length) * rowH + 6;
  const max = Math.max(1, ...bars.map((b) => b.limitBytes ?? b.bytes));
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const scale = b.limitBytes ?? max;
    const w = scale > 0 ? Math.max(b.bytes > 0 ? 2 : 0, Math.round((width * Math.min(b.bytes, scale)) / scale)) : 0;
    const text = b.limitBytes === null ? formatBytes(b.bytes) : `${formatBytes(b.bytes)} of ${formatBytes(b.limitBytes)}`;
    const over = b.limitBytes !== null && b.bytes > b.limitBytes;
    const label = b.label.length > 48 ? `${b.label.slice(0, 47)}…` : b.label;
    return (
      `<g class="bar" data-label="${esc(b.label)}" data-bytes="${b.bytes}" data-limit="${b.limitBytes ?? ''}">` +
      `<title>${esc(`${b.label}: ${text}`)}</title>` +
      `<text x="0" y="${y + 12}" font-size="13">${esc(label)} <tspan fill="#555">${esc(text)}</tspan></text>` +
      `<rect x="0" y="${y + 18}" width="${width}" height="16" rx="3" fill="#eee6da"/>` +
      `<rect x="0" y="${y + 18}" width="${w}" height="16" rx="3" fill="${over ? '#b3261e' : '#8a5a2b'}"/></g>`
    );
  });
  const empty = bars.length === 0 ? `<text x="0" y="${top + 15}" font-size="13" fill="#777">Nothing to draw yet.</text>` : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" role="img" aria-label="${esc(title)}">` +
    `<text x="0" y="16" font-size="14" font-weight="600">${esc(title)}</text>${rows.join('')}${empty}</svg>`
  );
}
