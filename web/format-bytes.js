// Burrow's one byte formatter, in this one file: the admin page loads it (<script src>), the
// catalogue has it inlined (catalogue.html must work from file://), and the CLI and the NAS run it
// through server/src/util/format-bytes.ts. IEC binary units (1 KiB = 1024 B), because every limit
// Burrow takes in "MB" (--quota, --limit-mb, the agent's limit) counts MiB.
// A plain script: no import or export, so every one of those can use it as it is.
function formatBytes(n) {
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
