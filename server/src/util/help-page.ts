/** Plain help pages the NAS and the device agent show instead of a bare 404 (e.g. for [open]). */

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained HTML page (no script), for answers a person reads in the browser. */
export function helpPage(title: string, paragraphs: string[], list: Array<{ href: string; text: string }> = []): string {
  const items = list.length ? `<ul>${list.map((l) => `<li><a href="${esc(l.href)}">${esc(l.text)}</a></li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2rem}li{margin:.2rem 0}</style></head>
<body><h1>${esc(title)}</h1>${paragraphs.map((p) => `<p>${esc(p)}</p>`).join('')}${items}<p><a href="/catalogue/catalogue.html">Back to the catalogue</a></p></body></html>\n`;
}

/** The headers every help page goes out with: no script may run in it. */
export const HELP_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
