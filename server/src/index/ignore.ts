/**
 * Entries the index never records: Burrow's own bookkeeping inside synced folders
 * (`.burrow/` at the top of a device folder holds the worklist and device.js) and the
 * sync engine's temp files. Users' own dot-files are indexed like any file.
 */
export function isIgnored(area: string, rel: string): boolean {
  if (area !== 'files' && (rel === '.burrow' || rel.startsWith('.burrow/'))) return true;
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return name === '.burrow-sync' || name.startsWith('.burrow-tmp-') || name.startsWith('.burrow-sync-') || rel.includes('/.burrow-sync/') || rel.startsWith('.burrow-sync/');
}
