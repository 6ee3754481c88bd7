/**
 * A member's network zone. The spec's rule: the first three octets of its public address
 * ("if one ip-provider cuts the network to the NAS in zone a.b.c ..."), unless the config names
 * one (`cluster.zone`, e.g. the ISP), which is how two NAS behind one provider but on different
 * /24s are told they share a fate. Loopback and link-local addresses say nothing: "unknown".
 */
export function zoneOf(configured: string, addresses: string[]): string {
  if (configured.trim() !== '') return configured.trim();
  for (const a of addresses) {
    const host = a.slice(0, a.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
    if (!m || m[1] === '127' || (m[1] === '169' && m[2] === '254')) continue;
    return `${m[1]}.${m[2]}.${m[3]}`;
  }
  return 'unknown';
}

/** How many distinct zones must hold each file: the configured number, else 2 when two zones exist. */
export function requiredZones(configured: number, zones: Iterable<string>): number {
  const distinct = new Set([...zones].filter((z) => z !== 'unknown')).size;
  if (configured > 0) return configured;
  return distinct >= 2 ? 2 : 1;
}
