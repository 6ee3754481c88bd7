import fs from 'node:fs';
import path from 'node:path';

/**
 * The catalogue's version as a page sees it: the manifest and the first-draw summary change with
 * every publish that changes what the page shows (holders are summed into the summary).
 */
export function catalogueVersion(catalogueDir: string): string {
  const parts: string[] = [];
  for (const f of ['data/index.js', 'data/summary.js']) {
    try {
      const st = fs.statSync(path.join(catalogueDir, f));
      parts.push(`${st.mtimeMs}:${st.size}`);
    } catch {
      parts.push('-');
    }
  }
  return parts.join('/');
}

/**
 * Script the NAS serves as /agent.js to catalogue pages it serves itself (there is no device agent
 * there): the page reloads when the published catalogue changes (GET /api/catalogue/version), so a
 * request that ended shows its effect without a manual reload. It waits while the user is busy (a
 * dialog, the menu, a search) and while a request shows as under way (up to a minute), reloads at
 * most every 2.5 s, and keeps the open folders and the scroll position. Plain ES2017, like the page.
 */
export const NAS_LIVE_SCRIPT = String.raw`(function () {
  'use strict';
  var KEY = 'burrow.nas.view', GAP = 2500, MAX_DEFER = 60000;
  var $ = function (id) { return document.getElementById(id); };
  // The version of the moment the page was served (the NAS puts it in the page); else the first poll's.
  var served = document.querySelector('meta[name="burrow-page-version"]');
  var version = served ? served.getAttribute('content') : undefined, loadedAt = Date.now(), changedAt = 0;
  function rows() { var t = $('tree'); return t ? Array.prototype.slice.call(t.querySelectorAll('.row')) : []; }
  function busy() {
    var veil = $('veil'), menu = $('menu'), q = $('q');
    // data-burrow-awaiting: the page waits for a result to show (a share's secret), which a reload would lose.
    return (veil && !veil.hidden) || (menu && !menu.hidden) || (q && (q.value || document.activeElement === q)) || document.documentElement.hasAttribute('data-burrow-awaiting');
  }
  function save() {
    var open = rows().filter(function (r) { return r.getAttribute('aria-expanded') === 'true'; }).map(function (r) { return r.getAttribute('data-path'); });
    try { sessionStorage.setItem(KEY, JSON.stringify({ open: open, y: window.scrollY })); } catch (e) { /* storage off */ }
  }
  function restore() {
    var v = null;
    try { v = JSON.parse(sessionStorage.getItem(KEY) || 'null'); sessionStorage.removeItem(KEY); } catch (e) { return; }
    if (!v || !v.open) return;
    var todo = v.open.slice().sort(function (a, b) { return a.split('/').length - b.split('/').length; }), tries = 0;
    (function step() {
      while (todo.length) {
        var row = rows().filter(function (r) { return r.getAttribute('data-path') === todo[0]; })[0];
        if (!row) break;
        todo.shift();
        if (row.getAttribute('aria-expanded') !== 'true') { var tw = row.querySelector('.tw'); if (tw) tw.click(); }
      }
      if (todo.length && ++tries < 50) setTimeout(step, 100); else window.scrollTo(0, v.y || 0);
    })();
  }
  function poll() {
    fetch('/api/catalogue/version', { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        if (version === undefined) { version = j.version; return; }
        if (j.version === version) return;
        changedAt = changedAt || Date.now();
        var watching = document.querySelector('#tree .state.pending, #tree .state.running') && Date.now() - changedAt < MAX_DEFER;
        if (!busy() && !watching && Date.now() - loadedAt > GAP) { save(); location.reload(); }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 500); });
  }
  function start() { restore(); poll(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
`;

