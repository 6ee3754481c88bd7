/**
 * Script the agent appends to /agent.js, for catalogue pages it serves itself. Two jobs:
 *
 * 1. [open] is bold exactly when the file or folder is here. The catalogue says a device holds
 *    a file as soon as the NAS linked it, which is before the bytes arrive, and it learns of a
 *    file only after the NAS republished. So for every row the page draws (files and folders),
 *    this asks the agent (POST /api/local) and makes [open] bold if it is in files/, else [get]
 *    (with "syncing" when the NAS already linked it and this device did not just let it go). A bold [open] from the catalogue is
 *    held back until confirmed (in a MutationObserver, before the next paint). Re-checked
 *    every 250 ms, so [open] turns bold right after the last byte lands.
 * 2. Live catalogue. When the synced catalogue data changes (GET /api/version), the page
 *    reloads itself while idle (no dialog, menu, search, or request or download under way;
 *    at most every 2.5 s), keeping its scroll position and the folders that were open. The page has no data-reload hook, hence the reload.
 *
 * Plain ES2017 and DOM only, like the page; it relies on the page's markup: rows are
 * `.row[data-path]` in #tree with `.lnk.get`, `.lnk.open` and `.tw`, and #veil/#menu/#q.
 */
export const AGENT_PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var A = window.BURROW_AGENT;
  if (!A || !A.token) return;
  var H = { 'X-Burrow-Token': A.token, 'Content-Type': 'application/json' };
  var KEY = 'burrow.agent.view';
  var $ = function (id) { return document.getElementById(id); };
  var checking = false;

  function openRows() {
    var t = $('tree');
    return t ? Array.prototype.slice.call(t.querySelectorAll('.row')) : [];
  }
  // First sight of a row the page drew: remember what the catalogue said, and hold back a
  // bold [open] until the agent confirms the file is here (this runs before the next paint).
  function adopt(row) {
    if (row.hasAttribute('data-agent-seen')) return;
    row.setAttribute('data-agent-seen', '1');
    var g = row.querySelector('.lnk.get'), o = row.querySelector('.lnk.open');
    if (!g || !o) return;
    if (o.classList.contains('strong')) {
      row.setAttribute('data-agent-cat-has', '1');
      o.classList.remove('strong'); g.classList.add('strong');
    }
  }
  function mark(row, here, info) {
    var g = row.querySelector('.lnk.get'), o = row.querySelector('.lnk.open');
    if (!g || !o) return;
    var s = row.querySelector('.agent-sync');
    if (here) { o.classList.add('strong'); g.classList.remove('strong'); }
    else { o.classList.remove('strong'); g.classList.add('strong'); }
    if (here || !info) { if (s) s.parentNode.removeChild(s); return; }
    if (!s) { s = document.createElement('span'); s.className = 'state syncing agent-sync'; row.appendChild(s); }
    s.textContent = info;
  }
  function check() {
    if (checking) return;
    var rows = openRows().filter(function (r) { return r.hasAttribute('data-agent-seen'); }).slice(0, 1000);
    if (!rows.length) return;
    var paths = rows.map(function (r) { return r.getAttribute('data-path'); });
    checking = true;
    fetch('/api/local', { method: 'POST', headers: H, body: JSON.stringify({ paths: paths }), credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        var missing = {};
        (j.missing || []).forEach(function (m) { missing[m.path] = m; });
        rows.forEach(function (r) {
          var m = missing[r.getAttribute('data-path')];
          mark(r, !m, m && r.hasAttribute('data-agent-cat-has') ? m.info : null);
        });
      })
      .catch(function () {})
      .then(function () { checking = false; });
  }

  function busy() {
    var veil = $('veil'), menu = $('menu'), q = $('q');
    // data-burrow-awaiting: the page waits for a result to show (a share's secret), which a reload would lose.
    return (veil && !veil.hidden) || (menu && !menu.hidden) || (q && (q.value || document.activeElement === q)) || document.documentElement.hasAttribute('data-burrow-awaiting');
  }
  function saveView() {
    var open = openRows().filter(function (r) { return r.getAttribute('aria-expanded') === 'true'; }).map(function (r) { return r.getAttribute('data-path'); });
    try { sessionStorage.setItem(KEY, JSON.stringify({ open: open, y: window.scrollY })); } catch (e) { /* storage off */ }
  }
  function restoreView() {
    var v = null;
    try { v = JSON.parse(sessionStorage.getItem(KEY) || 'null'); sessionStorage.removeItem(KEY); } catch (e) { return; }
    if (!v || !v.open) return;
    var todo = v.open.slice().sort(function (a, b) { return a.split('/').length - b.split('/').length; });
    var tries = 0;
    (function step() {
      while (todo.length) {
        var p = todo[0];
        var row = openRows().filter(function (r) { return r.getAttribute('data-path') === p; })[0];
        if (!row) break;
        todo.shift();
        if (row.getAttribute('aria-expanded') !== 'true') { var tw = row.querySelector('.tw'); if (tw) tw.click(); }
      }
      if (todo.length && ++tries < 50) setTimeout(step, 100);
      else window.scrollTo(0, v.y || 0);
    })();
  }
  var version = A.version;
  var loadedAt = Date.now();
  var MIN_RELOAD_GAP_MS = 2500;
  var MAX_DEFER_MS = 60000;
  var changedAt = 0;
  function poll() {
    fetch('/api/version', { headers: H, credentials: 'omit', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        if (version === undefined) version = j.version;
        else if (j.version !== version) {
          changedAt = changedAt || Date.now();
          // At most one reload every few seconds (a NAS busy importing must not make the page
          // flicker), and not while a request of this device shows as under way (for up to a
          // minute), so the user watching it sees it finish. The agent's own "syncing" mark is
          // not a request: it often comes from the very staleness the reload cures (a file
          // that left this device while the page still says it holds it), so it never defers.
          var watching = document.querySelector('#tree .state.pending, #tree .state.running') && Date.now() - changedAt < MAX_DEFER_MS;
          if (!busy() && !watching && Date.now() - loadedAt > MIN_RELOAD_GAP_MS) { saveView(); location.reload(); }
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 250); });
  }

  function start() {
    var t = $('tree');
    if (t && window.MutationObserver) {
      new MutationObserver(function (list) {
        var fresh = false;
        list.forEach(function (m) {
          Array.prototype.forEach.call(m.addedNodes, function (n) {
            if (n.nodeType !== 1) return;
            if (n.classList.contains('row')) { adopt(n); fresh = true; }
            else if (n.querySelectorAll) Array.prototype.forEach.call(n.querySelectorAll('.row'), function (r) { adopt(r); fresh = true; });
          });
        });
        if (fresh) setTimeout(check, 0);
      }).observe(t, { childList: true, subtree: true });
    }
    openRows().forEach(adopt);
    setInterval(check, 250);
    check();
    restoreView();
    poll();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
`;
