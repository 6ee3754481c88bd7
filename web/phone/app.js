/* Burrow web app (a phone with nothing installed, issue 18). Loaded by the catalogue page the
 * NAS serves at /app/c/catalogue.html, before the page starts. Plain ES2017 and DOM.
 *
 * - The device folder is this browser's Origin Private File System: files/<path> holds the
 *   complete files the NAS linked into devices/<device>/; parts/<encoded path> holds downloads
 *   under way. A download asks for the bytes it lacks (Range, If-Range with the file's ETag), so
 *   a cut download resumes; only a complete file of the right size is moved into files/, so
 *   [open] (bold exactly when the file is in files/) never shows a half-stored file.
 * - What the NAS no longer links (a [delete], a balancer eviction) is removed here.
 * - The browser's storage quota is reported to the NAS as this device's limit.
 * - A request made while the NAS is out of reach waits in localStorage, shown as waiting, and
 *   is sent when the NAS answers again. A revoked credential stops every exchange with the NAS.
 * The service worker (sw.js) serves [open] from files/ and the catalogue from its cache offline. */
(function () {
  'use strict';
  var BASE = '/app';
  var H = { 'X-Burrow-Device': '1', 'Content-Type': 'application/json' };
  var OUTBOX_KEY = 'burrow.webapp.outbox';
  var HAVE_KEY = 'burrow.webapp.have';
  var PARTS_KEY = 'burrow.webapp.parts';
  var TICK_MS = 1500;
  var REPORT_EVERY_MS = 60000;

  var device = (window.BURROW_DEVICE && window.BURROW_DEVICE.name) || '';
  var state = {
    revoked: false,
    reachable: null, // null: not asked yet
    holdings: null, // Map path -> {size, mtime}
    have: load(HAVE_KEY, {}), // path -> {size, mtime}: complete in files/
    parts: load(PARTS_KEY, {}), // path -> {size, mtime, etag}
    active: null, // {path, got, size}
    problems: {}, // path -> message (quota, download refused)
    quotaMessage: null,
    outbox: load(OUTBOX_KEY, []),
    lastReport: null,
  };
  var sentCallbacks = {};

  window.BURROW_WEBAPP = { base: BASE, device: device, queue: queue, state: state, tick: function () { return tick(); } };

  function load(key, dflt) {
    try { var v = JSON.parse(localStorage.getItem(key) || 'null'); return v === null ? dflt : v; } catch (e) { return dflt; }
  }
  function save(key, v) { try { localStorage.setItem(key, JSON.stringify(v)); } catch (e) { /* storage off */ } }
  function $(id) { return document.getElementById(id); }
  function fmt(n) { return typeof formatBytes === 'function' ? formatBytes(n) : n + ' B'; }
  function enc(p) { return p.split('/').map(encodeURIComponent).join('/'); }

  // ---- the banner -------------------------------------------------------------------------
  var banner = document.createElement('p');
  banner.id = 'webapp'; banner.className = 'agent'; banner.setAttribute('role', 'status'); banner.setAttribute('aria-live', 'polite');
  var top = $('top');
  if (top) top.appendChild(banner);
  function say() {
    var lines = [];
    if (state.revoked) lines.push('This browser\'s access to the NAS was revoked by the owner: it no longer sends requests or downloads. Files already here still open. Ask the owner for a new join link (burrow device add ' + device + ' --web).');
    else if (state.reachable === false) lines.push('The NAS is out of reach: browsing what this ' + (device || 'device') + ' knows and holds.' + (state.outbox.length ? ' ' + state.outbox.length + ' request(s) waiting, sent when the NAS is back.' : ''));
    if (state.active) lines.push('Downloading ' + state.active.path + ': ' + Math.floor((100 * state.active.got) / Math.max(1, state.active.size)) + '% (' + fmt(state.active.got) + ' of ' + fmt(state.active.size) + ')');
    if (state.quotaMessage) lines.push(state.quotaMessage);
    banner.textContent = lines.join(' ');
    banner.hidden = lines.length === 0;
    document.documentElement.setAttribute('data-webapp', state.revoked ? 'revoked' : state.reachable === false ? 'offline' : state.reachable ? 'online' : 'starting');
  }

  // ---- OPFS ---------------------------------------------------------------------------------
  var rootDir = null;
  async function opfs() {
    if (!rootDir) rootDir = await navigator.storage.getDirectory();
    return rootDir;
  }
  async function dirAt(names, create) {
    var d = await opfs();
    for (var i = 0; i < names.length; i++) d = await d.getDirectoryHandle(names[i], { create: create });
    return d;
  }
  function partName(p) { return encodeURIComponent(p); }

  /** What files/ really holds (the saved list may be older than a crash). */
  async function rescan() {
    var found = {};
    async function walk(dir, prefix) {
      for await (var entry of dir.values()) {
        var rel = prefix ? prefix + '/' + entry.name : entry.name;
        if (entry.kind === 'directory') await walk(entry, rel);
        else found[rel] = (await entry.getFile()).size;
      }
    }
    try { await walk(await dirAt(['files'], true), ''); } catch (e) { return; }
    var have = {};
    Object.keys(found).forEach(function (p) {
      var old = state.have[p];
      have[p] = old && old.size === found[p] ? old : { size: found[p], mtime: null };
    });
    state.have = have;
    save(HAVE_KEY, have);
  }

  async function removeLocal(p) {
    var names = p.split('/');
    try {
      var d = await dirAt(['files'].concat(names.slice(0, -1)), false);
      await d.removeEntry(names[names.length - 1]);
    } catch (e) { /* already gone */ }
    delete state.have[p];
    save(HAVE_KEY, state.have);
  }
  async function removePart(p) {
    try { await (await dirAt(['parts'], true)).removeEntry(partName(p)); } catch (e) { /* none */ }
    delete state.parts[p];
    save(PARTS_KEY, state.parts);
  }

  function isQuota(e) { return e && (e.name === 'QuotaExceededError' || /quota/i.test(String(e.message || ''))); }
  function quotaMessage(p, need, est) {
    var free = Math.max(0, (est.quota || 0) - (est.usage || 0));
    return 'Not stored: ' + p + ' needs ' + fmt(need) + ' more, but this browser lets Burrow keep only ' + fmt(est.quota || 0) + ' (' + fmt(free) + ' free). [delete] something on this ' + (device || 'device') + ', or free space on the phone.';
  }

  // ---- downloads ----------------------------------------------------------------------------
  // Downloads run in a dedicated worker (download-worker.js), whose synchronous access handle
  // writes each chunk straight into the part file.
  var worker = null, lastShown = 0;
  function inWorker(msg, onMessage) {
    if (!worker) worker = new Worker(BASE + '/download-worker.js');
    return new Promise(function (resolve) {
      worker.onmessage = function (e) {
        var m = e.data;
        if (m.done !== undefined || m.error !== undefined || m.status !== undefined) resolve(m); else onMessage(m);
      };
      worker.onerror = function (e) { resolve({ error: 'the download worker failed: ' + (e.message || 'unknown'), got: msg.have }); };
      worker.postMessage(msg);
    });
  }
  async function download(p, want) {
    var parts = await dirAt(['parts'], true);
    var fh = await parts.getFileHandle(partName(p), { create: true });
    var meta = state.parts[p];
    var have = (await fh.getFile()).size;
    if (!meta || meta.size !== want.size || meta.mtime !== want.mtime || have > want.size) have = 0; // another version: start over
    var est = await navigator.storage.estimate();
    if (want.size - have > (est.quota || 0) - (est.usage || 0)) {
      await removePart(p);
      state.problems[p] = { message: quotaMessage(p, want.size - have, est), size: want.size, mtime: want.mtime };
      state.quotaMessage = state.problems[p].message;
      return;
    }
    state.active = { path: p, got: have, size: want.size };
    markAll(); say();
    var out = await inWorker({ url: BASE + '/api/file/' + enc(p), name: partName(p), have: have, etag: meta && meta.etag }, function (m) {
      if (m.etag !== undefined) { state.parts[p] = { size: want.size, mtime: want.mtime, etag: m.etag }; save(PARTS_KEY, state.parts); }
      if (m.progress !== undefined || m.got !== undefined) state.active.got = m.progress !== undefined ? m.progress : m.got;
      if (Date.now() - lastShown > 250) { lastShown = Date.now(); markAll(); say(); }
    });
    var got = out.done !== undefined ? out.done : out.got;
    if (out.status === 401) { state.active = null; revoked(); return; }
    if (out.status === 404) { state.active = null; await removePart(p); return; } // unlinked meanwhile
    if (out.status !== undefined) { state.active = null; throw new Error('HTTP ' + out.status); }
    if (out.error !== undefined) {
      state.active = null;
      if (out.quota) {
        await removePart(p);
        var est2 = await navigator.storage.estimate();
        state.problems[p] = { message: quotaMessage(p, want.size, est2), size: want.size, mtime: want.mtime };
        state.quotaMessage = state.problems[p].message;
        markAll(); say();
        return;
      }
      markAll(); say();
      throw new TypeError(out.error); // cut: the next round resumes from what the part file holds
    }
    state.active = null;
    if (got !== want.size) { markAll(); say(); throw new Error(p + ': got ' + got + ' of ' + want.size + ' bytes'); }
    // Complete: into files/, where [open] finds it.
    var names = p.split('/');
    var target = await dirAt(['files'].concat(names.slice(0, -1)), true);
    try { await target.removeEntry(names[names.length - 1]); } catch (e) { /* none */ }
    await fh.move(target, names[names.length - 1]);
    delete state.parts[p]; save(PARTS_KEY, state.parts);
    state.have[p] = { size: want.size, mtime: want.mtime }; save(HAVE_KEY, state.have);
    delete state.problems[p];
    if (!Object.keys(state.problems).length) state.quotaMessage = null;
    markAll(); say();
  }

  // ---- talking to the NAS -------------------------------------------------------------------
  function revoked() {
    if (state.revoked) return;
    state.revoked = true;
    window.BURROW_WEBAPP.revoked = true;
    say(); markAll();
  }
  async function api(path, init) {
    var res = await fetch(BASE + path, Object.assign({ credentials: 'same-origin', cache: 'no-store', headers: H }, init || {}));
    if (res.status === 401) { revoked(); throw new Error('revoked'); }
    return res;
  }

  function queue(body, onSent) {
    state.outbox.push(body);
    save(OUTBOX_KEY, state.outbox);
    if (onSent) sentCallbacks[body.id] = onSent;
    say();
  }
  async function flushOutbox() {
    while (state.outbox.length && !state.revoked) {
      var body = state.outbox[0];
      var res = await fetch(BASE + '/api/requests', { method: 'POST', headers: H, body: JSON.stringify(body), credentials: 'same-origin' });
      if (res.status === 401) { revoked(); return; }
      state.outbox.shift();
      save(OUTBOX_KEY, state.outbox);
      var cb = sentCallbacks[body.id];
      delete sentCallbacks[body.id];
      if (cb) cb(res);
      say();
    }
  }

  async function report() {
    if (!navigator.storage || !navigator.storage.estimate) return;
    var est = await navigator.storage.estimate();
    var files = Object.keys(state.have).reduce(function (s, p) { return s + state.have[p].size; }, 0);
    var r = { quotaBytes: est.quota || 0, usageBytes: est.usage || 0, filesBytes: files };
    var l = state.lastReport;
    if (l && Date.now() - l.at < REPORT_EVERY_MS && Math.abs(l.r.quotaBytes - r.quotaBytes) < 1048576 && Math.abs(l.r.usageBytes - r.usageBytes) < 1048576 && l.r.filesBytes === r.filesBytes) return;
    var res = await api('/api/report', { method: 'POST', body: JSON.stringify(r) });
    if (res.ok) state.lastReport = { at: Date.now(), r: r };
  }

  var ticking = false, again = false, version = null;
  async function tick() {
    if (state.revoked) return;
    if (ticking) { again = true; return; }
    ticking = true;
    try {
      await flushOutbox();
      var res = await api('/api/holdings');
      if (!res.ok) throw new Error('HTTP ' + res.status);
      var j = await res.json();
      state.reachable = true;
      var want = new Map();
      j.files.forEach(function (f) { want.set(f[0], { size: f[1], mtime: f[2] }); });
      state.holdings = want;
      // Gone from the device folder ([delete], the balancer): gone from this browser too.
      for (var p of Object.keys(state.have)) if (!want.has(p)) await removeLocal(p);
      for (var q of Object.keys(state.parts)) if (!want.has(q)) await removePart(q);
      Object.keys(state.problems).forEach(function (k) { var w = want.get(k); if (!w || w.size !== state.problems[k].size || w.mtime !== state.problems[k].mtime) delete state.problems[k]; });
      if (!Object.keys(state.problems).length) state.quotaMessage = null;
      markAll(); say();
      for (var entry of want) {
        var path = entry[0], w = entry[1], h = state.have[path];
        if (state.revoked) break;
        if (state.problems[path]) continue;
        if (h && h.size === w.size && (h.mtime === w.mtime || h.mtime === null)) {
          if (h.mtime === null) { h.mtime = w.mtime; save(HAVE_KEY, state.have); }
          continue;
        }
        await download(path, w);
      }
      await report();
      var v = await api('/api/version');
      if (v.ok) { var vj = await v.json(); if (version === null) version = vj.version; else if (vj.version !== version) reloadWhenIdle(); }
    } catch (e) {
      state.active = null;
      if (!state.revoked && e instanceof TypeError) state.reachable = false; // fetch: the NAS is out of reach
      say(); markAll();
    } finally {
      ticking = false;
      if (again && !state.revoked) { again = false; setTimeout(tick, 0); }
    }
  }

  // ---- the catalogue's rows -----------------------------------------------------------------
  // [open] is bold exactly when the complete file is in this browser (a folder: when it holds
  // something under it and nothing under it is still to come). The catalogue's own idea (the NAS
  // linked it) is overruled, as the device agent's page script does.
  function rowsNow() { var t = $('tree'); return t ? Array.prototype.slice.call(t.querySelectorAll('.row')) : []; }
  function folderState(dir) {
    var prefix = dir + '/', here = 0, missing = 0;
    Object.keys(state.have).forEach(function (p) { if (p.indexOf(prefix) === 0) here++; });
    if (state.holdings) state.holdings.forEach(function (w, p) { if (p.indexOf(prefix) === 0 && !state.have[p]) missing++; });
    return { here: here > 0 && missing === 0, missing: missing };
  }
  function mark(row) {
    var o = row.querySelector('.lnk.open'), g = row.querySelector('.lnk.get');
    if (!o || !g) return;
    var p = row.getAttribute('data-path');
    var isDir = row.hasAttribute('aria-expanded');
    var here, info = null;
    if (isDir) {
      var f = folderState(p);
      here = f.here;
      if (f.missing) info = f.missing + ' file(s) still to come to this ' + (device || 'device');
    } else {
      here = !!state.have[p];
      var pr = state.problems[p];
      if (pr) info = pr.message;
      else if (state.active && state.active.path === p) info = 'downloading ' + Math.floor((100 * state.active.got) / Math.max(1, state.active.size)) + '%';
      else if (!here && state.holdings && state.holdings.has(p)) info = state.reachable === false ? 'not here yet (the NAS is out of reach)' : 'waiting to download';
    }
    if (here) { o.classList.add('strong'); g.classList.remove('strong'); } else { o.classList.remove('strong'); g.classList.add('strong'); }
    var s = row.querySelector('.webapp-sync');
    if (here || !info) { if (s) s.parentNode.removeChild(s); return; }
    if (!s) { s = document.createElement('span'); s.className = 'state syncing webapp-sync'; row.appendChild(s); }
    if (s.textContent !== info) s.textContent = info;
  }
  function markAll() { rowsNow().forEach(mark); }

  // ---- live catalogue -------------------------------------------------------------------------
  var VIEW_KEY = 'burrow.webapp.view';
  function busy() {
    var veil = $('veil'), menu = $('menu'), q = $('q');
    return state.active || (veil && !veil.hidden) || (menu && !menu.hidden) || (q && (q.value || document.activeElement === q)) || document.documentElement.hasAttribute('data-burrow-awaiting') || document.querySelector('#tree .state.pending, #tree .state.running, #tree .state.waiting');
  }
  var reloadTimer = null;
  function reloadWhenIdle() {
    if (reloadTimer) return;
    reloadTimer = setInterval(function () {
      if (busy()) return;
      var open = rowsNow().filter(function (r) { return r.getAttribute('aria-expanded') === 'true'; }).map(function (r) { return r.getAttribute('data-path'); });
      try { sessionStorage.setItem(VIEW_KEY, JSON.stringify({ open: open, y: window.scrollY })); } catch (e) { /* storage off */ }
      location.reload();
    }, 1000);
  }
  function restoreView() {
    var v = null;
    try { v = JSON.parse(sessionStorage.getItem(VIEW_KEY) || 'null'); sessionStorage.removeItem(VIEW_KEY); } catch (e) { return; }
    if (!v || !v.open) return;
    var todo = v.open.slice().sort(function (a, b) { return a.split('/').length - b.split('/').length; });
    var tries = 0;
    (function step() {
      while (todo.length) {
        var want = todo[0];
        var row = rowsNow().filter(function (r) { return r.getAttribute('data-path') === want; })[0];
        if (!row) break;
        todo.shift();
        if (row.getAttribute('aria-expanded') !== 'true') { var tw = row.querySelector('.tw'); if (tw) tw.click(); }
      }
      if (todo.length && ++tries < 50) setTimeout(step, 100); else window.scrollTo(0, v.y || 0);
    })();
  }

  // ---- start --------------------------------------------------------------------------------
  async function start() {
    var t = $('tree');
    if (t && window.MutationObserver) {
      // Every redraw of the page's rows is marked again before it is painted (the page may
      // redraw a row it drew before, with the catalogue's own idea of [open]).
      new MutationObserver(function () { markAll(); }).observe(t, { childList: true, subtree: true });
    }
    markAll();
    say();
    if (!navigator.storage || !navigator.storage.getDirectory) {
      state.quotaMessage = 'This browser cannot keep files for Burrow (no Origin Private File System; it needs an HTTPS address it trusts). Browsing works; [get] reaches the NAS but nothing is stored here.';
      say();
      return;
    }
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(function (e) { banner.textContent = 'Offline use is off: ' + e.message; banner.hidden = false; });
    try { if (navigator.storage.persist) await navigator.storage.persist(); } catch (e) { /* the browser decides */ }
    await rescan();
    markAll();
    restoreView();
    document.addEventListener('burrow-request', function () { tick(); });
    window.addEventListener('online', function () { tick(); });
    setInterval(tick, TICK_MS);
    tick();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else setTimeout(start, 0);
})();
