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
  const width = 640;
  const labelW = 200;
  const barW = width - labelW - 20;
  const rowH = 34;
  const top = 34;
  const height = top + Math.max(1, bars.length) * rowH + 10;
  const max = Math.max(1, ...bars.map((b) => b.limitBytes ?? b.bytes));
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const scale = b.limitBytes ?? max;
    const w = scale > 0 ? Math.max(b.bytes > 0 ? 2 : 0, Math.round((barW * Math.min(b.bytes, scale)) / scale)) : 0;
    const text = b.limitBytes === null ? formatBytes(b.bytes) : `${formatBytes(b.bytes)} of ${formatBytes(b.limitBytes)}`;
    const over = b.limitBytes !== null && b.bytes > b.limitBytes;
    const label = b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label;
    return (
      `<g class="bar" data-label="${esc(b.label)}" data-bytes="${b.bytes}" data-limit="${b.limitBytes ?? ''}">` +
      `<title>${esc(`${b.label}: ${text}`)}</title>` +
      `<text x="0" y="${y + 15}" font-size="13">${esc(label)}</text>` +
      (b.limitBytes !== null ? `<rect x="${labelW}" y="${y}" width="${barW}" height="14" fill="#eee6da"/>` : '') +
      `<rect x="${labelW}" y="${y}" width="${w}" height="14" fill="${over ? '#b3261e' : '#8a5a2b'}"/>` +
      `<text x="${labelW}" y="${y + 28}" font-size="11" fill="#555">${esc(text)}</text></g>`
    );
  });
  const empty = bars.length === 0 ? `<text x="0" y="${top + 15}" font-size="13" fill="#777">Nothing to draw yet.</text>` : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" role="img" aria-label="${esc(title)}">` +
    `<text x="0" y="18" font-size="15" font-weight="600">${esc(title)}</text>${rows.join('')}${empty}</svg>`
  );
}
