/**
 * The one way Burrow writes a byte count for people: IEC binary units (1 KiB = 1024 B), because
 * every size limit Burrow takes in "MB" (`--quota`, `--limit-mb`, the agent's limit) is counted
 * in MiB. The CLI, the request reasons, the admin UI and the catalogue all use this function:
 * the two browser pages get its source inlined (see `formatBytesSource`), so it must stay
 * self-contained plain JavaScript (no imports, no outer names).
 */
export function formatBytes(n: number): string {
  if (typeof n !== 'number' || !isFinite(n)) return '—';
  var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  var i = 0;
  var v = Math.abs(n);
  // 1023.95 and up would print as "1024.0 KiB": show it as the next unit instead.
  while (v >= 1023.95 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  var sign = n < 0 ? '-' : '';
  return i === 0 ? sign + v + ' B' : sign + v.toFixed(1) + ' ' + units[i];
}

/** `formatBytes` as a browser script statement, for pages that cannot import modules. */
export function formatBytesSource(): string {
  return formatBytes.toString() + '\n';
}
