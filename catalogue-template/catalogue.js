/* Burrow catalogue page. Plain ES2017 so old browsers run it; no network except the
 * NAS/agent API. Every name reaches the DOM through textContent, never innerHTML.
 * Data format: see server/src/catalogue/record-format.ts. */
(function () {
  'use strict';
  var CFG = window.BURROW_CONFIG || {};
  var FIELDS = 6;
  var PAGE = 500; // children drawn per folder before a "show more" button
  var SEARCH_LIMIT = 200;
  var $ = function (id) { return document.getElementById(id); };

  // ---- state --------------------------------------------------------------------------
  var index = null, summary = null;
  var deviceName = null; // the device that is looking, or '' for "just browsing"
  var deviceFixed = false;
  var serverRequests = {}; // path -> newest request from the device's request shard
  var localRequests = {}; // path -> request this page sent and is watching
  var api = { base: null, ok: false, token: null, tried: null };

  // Decoded catalogue (typed arrays, filled as shards arrive, in shard order).
  var cap = 0, n = 0;
  var off, par, kind, size, mtime, hid, cnt, held;
  var holderStrs = [''], holderIds = new Map(), holderMask = [0], holderShares = [null];
  var dirIndex = new Map(); // folder path -> entry index
  var chunkText = [], chunkOrder = [], pending = {}, nextChunk = 0, loaded = false, loadError = null;
  var blob = '', lower = '';
  var childOff = null, childIdx = null, rootKids = [];
  var devMask = 0, devCount = 0, devHeld = null; // per folder, per device: files held
  var folderShares = new Map(); // folder index -> Set of share ids under it

  var expanded = new Set(); // paths of expanded folders
  var shownCount = {}; // folder path -> children drawn
  var query = '';
  var focusPath = null;

  // ---- small helpers ------------------------------------------------------------------
  // Control and bidi-control characters in a name are shown, never obeyed: U+202E would
  // otherwise make "evil\u202Egpj.exe" read as "evilexe.jpg". Names sit in elements styled
  // unicode-bidi: isolate (catalogue.css), so their direction cannot spill into the text around.
  var HIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;
  function shown(s) {
    return String(s).replace(HIDDEN_CHARS, function (c) { return '\u27e8U+' + ('000' + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4) + '\u27e9'; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = shown(text);
    return e;
  }
  // formatBytes is Burrow's one byte formatter (web/format-bytes.js), inlined before this script.
  function human(bytes) { return formatBytes(bytes); }
  function pad(x) { return x < 10 ? '0' + x : '' + x; }
  function date(sec) {
    if (!sec) return '';
    var d = new Date(sec * 1000);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function unescapePart(s) {
    return s.indexOf('\\') < 0 ? s : s.replace(/\\([\s\S])/g, function (m, c) { return c === '!' ? '|' : c; });
  }
  function baseName(p) { var i = p.lastIndexOf('/'); return i < 0 ? p : p.slice(i + 1); }
  function parentPath(p) { var i = p.lastIndexOf('/'); return i < 0 ? '' : p.slice(0, i); }
  function openHref(p, isDir) {
    try {
      return '../files/' + p.split('/').map(encodeURIComponent).join('/') + (isDir ? '/' : '');
    } catch (e) { return '#'; }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function store(key, value) { try { if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value); } catch (e) { /* storage off */ } }
  function recall(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  var DEVICE_RE = /^[A-Za-z0-9._-]{1,64}$/;
  function setStatus(text) { $('status').textContent = shown(text); }

  // ---- loaders called by the data scripts ------------------------------------------------
  window.BURROW_INDEX = function (x) { index = x; };
  window.BURROW_SUMMARY = function (x) { summary = x; };
  var requestsSeen = null;
  window.BURROW_REQUESTS = function (dev, rows) {
    if (dev !== deviceName) return;
    // Reloaded every 20 s: redraw only when something changed (a redraw replaces every row).
    var key = JSON.stringify(rows);
    if (key === requestsSeen) return;
    requestsSeen = key;
    serverRequests = {};
    for (var j = 0; j < rows.length; j++) {
      var cur = serverRequests[rows[j].path];
      if (!cur || cur.updatedAt < rows[j].updatedAt) serverRequests[rows[j].path] = rows[j];
    }
    render();
  };
  window.BURROW_CHUNK = function (name, data) {
    pending[name] = data;
    while (nextChunk < chunkOrder.length && pending[chunkOrder[nextChunk]] !== undefined) {
      var d = pending[chunkOrder[nextChunk]];
      delete pending[chunkOrder[nextChunk]];
      decodeChunk(d);
      nextChunk++;
    }
    if (nextChunk === chunkOrder.length && !loaded) finishLoad();
    else if (nextChunk % 64 === 0) setStatus('Loading the catalogue… ' + Math.round((100 * nextChunk) / chunkOrder.length) + '%');
  };

  // ---- decoding -----------------------------------------------------------------------
  function grow(need) {
    if (need <= cap) return;
    var c = Math.max(need, cap * 2, 1024);
    var g = function (A, old) { var a = new A(c); if (old) a.set(old.subarray(0, n)); return a; };
    off = g(Float64Array, off); par = g(Int32Array, par); kind = g(Uint8Array, kind);
    size = g(Float64Array, size); mtime = g(Float64Array, mtime); hid = g(Int32Array, hid);
    cap = c;
  }
  function internHolders(s) {
    var id = holderIds.get(s);
    if (id !== undefined) return id;
    id = holderStrs.length;
    holderIds.set(s, id);
    holderStrs.push(s);
    var mask = 0, shares = null, parts = s.split('/');
    for (var i = 0; i < parts.length; i++) {
      var t = parts[i];
      if (t.charAt(0) === '+') (shares || (shares = [])).push(t.slice(1));
      else { var k = index.devices.indexOf(t); if (k >= 0 && k < 31) mask |= 1 << k; }
    }
    holderMask.push(mask); holderShares.push(shares);
    return id;
  }
  var textLen = 0, lastParentPath = null, lastParentIdx = -1;
  function decodeChunk(data) {
    var f = data.split('|');
    var recs = (f.length / FIELDS) | 0;
    grow(n + recs + 1);
    var prev = '', lines = new Array(recs);
    for (var r = 0, i = 0; r < recs; r++, i += FIELDS) {
      var plen = parseInt(f[i], 36);
      var p = (plen ? prev.slice(0, plen) : '') + unescapePart(f[i + 1]);
      lines[r] = p;
      var isDir = f[i + 2] === 'd';
      var pp = parentPath(p);
      var pi;
      if (pp === '') pi = -1;
      else if (pp === lastParentPath) pi = lastParentIdx;
      else { pi = dirIndex.has(pp) ? dirIndex.get(pp) : -1; lastParentPath = pp; lastParentIdx = pi; }
      off[n] = textLen; textLen += p.length + 1;
      par[n] = pi; kind[n] = isDir ? 1 : 0;
      size[n] = isDir ? 0 : parseInt(f[i + 3], 36) || 0;
      mtime[n] = parseInt(f[i + 4], 36) || 0;
      hid[n] = f[i + 5] ? internHolders(f[i + 5]) : 0;
      if (isDir) dirIndex.set(p, n);
      n++;
      prev = p;
    }
    chunkText.push(lines.join('\n') + '\n');
  }
  function finishLoad() {
    loaded = true;
    off[n] = textLen;
    blob = chunkText.join('');
    chunkText = null;
    // Lower-casing must keep every offset: fall back per line where a character changes length.
    lower = blob.toLowerCase();
    if (lower.length !== blob.length) {
      var out = [];
      for (var i = 0; i < n; i++) { var p = pathOf(i), l = p.toLowerCase(); out.push(l.length === p.length ? l : p); }
      lower = out.join('\n') + '\n';
    }
    prevSearch = null;
    buildChildren();
    aggregate();
    setStatus(summaryLine());
    render();
    if (query) runSearch();
    window.BURROW_LOADED_AT = performance.now();
    document.documentElement.setAttribute('data-loaded', String(n));
    try { sessionStorage.removeItem('burrow.loadRetries'); } catch (e) { /* storage off */ }
  }
  // A shard that is missing now (the NAS republished while this copy was still syncing) arrives
  // within seconds: load the page again by itself, a few times with growing pauses, while the user
  // is not in a dialog or menu, instead of leaving a half-loaded catalogue until someone reloads.
  function retryLoadSoon() {
    var KEY = 'burrow.loadRetries', tries = 0;
    try { tries = Number(sessionStorage.getItem(KEY) || '0'); } catch (e) { /* storage off */ }
    if (tries >= 8) { setStatus(loadError.replace('Trying again in a moment.', 'Reload the page in a moment.')); return; }
    setTimeout(function again() {
      var veil = document.getElementById('veil'), menu = document.getElementById('menu');
      if ((veil && !veil.hidden) || (menu && !menu.hidden)) { setTimeout(again, 1000); return; }
      try { sessionStorage.setItem(KEY, String(tries + 1)); } catch (e) { /* storage off */ }
      location.reload();
    }, 1000 * Math.min(10, 1 + tries));
  }
  function pathOf(i) { return blob.slice(off[i], off[i + 1] - 1); }
  function buildChildren() {
    var counts = new Int32Array(n + 1);
    for (var i = 0; i < n; i++) if (par[i] >= 0) counts[par[i]]++;
    childOff = new Int32Array(n + 1);
    var acc = 0;
    for (var j = 0; j < n; j++) { childOff[j] = acc; acc += counts[j]; }
    childOff[n] = acc;
    childIdx = new Int32Array(acc);
    var fill = childOff.slice(0, n);
    rootKids = [];
    for (var k = 0; k < n; k++) {
      if (par[k] >= 0) childIdx[fill[par[k]]++] = k;
      else rootKids.push(k);
    }
  }
  function aggregate() {
    devCount = Math.min(index.devices.length, 31);
    cnt = new Int32Array(n);
    devHeld = new Int32Array(n * Math.max(devCount, 1));
    folderShares = new Map();
    // Children follow their parents in path order, so one backwards pass sums every subtree.
    for (var i = n - 1; i >= 0; i--) {
      var p = par[i];
      if (kind[i] === 0) {
        cnt[i] = 1;
        var m = holderMask[hid[i]];
        if (m) for (var d = 0; d < devCount; d++) if (m & (1 << d)) devHeld[i * devCount + d] = 1;
        var sh = holderShares[hid[i]];
        if (sh && p >= 0) { var set = folderShares.get(p) || new Set(); sh.forEach(function (x) { set.add(x); }); folderShares.set(p, set); }
      }
      if (p < 0) continue;
      cnt[p] += cnt[i];
      size[p] += size[i];
      if (mtime[i] > mtime[p]) mtime[p] = mtime[i];
      for (var e = 0; e < devCount; e++) devHeld[p * devCount + e] += devHeld[i * devCount + e];
      if (kind[i] === 1 && folderShares.has(i)) {
        var ps = folderShares.get(p) || new Set();
        folderShares.get(i).forEach(function (x) { ps.add(x); });
        folderShares.set(p, ps);
      }
    }
  }
  function summaryLine() {
    var s = summary || { files: 0, dirs: 0, bytes: 0 };
    return s.files.toLocaleString() + ' files in ' + s.dirs.toLocaleString() + ' folders, ' + human(s.bytes);
  }

  // ---- one entry's facts, from the full data or (before it is loaded) the summary ----------
  function info(i) {
    var p = pathOf(i), isDir = kind[i] === 1;
    var devs = [], partial = [], shares = null;
    if (isDir) {
      for (var d = 0; d < devCount; d++) {
        var h = devHeld[i * devCount + d];
        if (h > 0 && h === cnt[i]) devs.push(index.devices[d]);
        else if (h > 0) partial.push(index.devices[d]);
      }
      shares = folderShares.has(i) ? Array.from(folderShares.get(i)) : null;
    } else {
      var hs = holderStrs[hid[i]];
      if (hs) hs.split('/').forEach(function (t) { if (t.charAt(0) !== '+') devs.push(t); });
      shares = holderShares[hid[i]];
    }
    return { i: i, path: p, name: baseName(p), dir: isDir, size: size[i], mtime: mtime[i], count: isDir ? cnt[i] : 1, devs: devs, partial: partial, shares: shares || [] };
  }
  function infoFromSummary(t) {
    var devs = [], partial = [], shares = [];
    (t[5] ? t[5].split('/') : []).forEach(function (h) {
      var full = h.charAt(0) === '=' || t[1] === 'f';
      var name = h.charAt(0) === '=' ? h.slice(1) : h;
      if (name.charAt(0) === '+') shares.push(name.slice(1));
      else (full ? devs : partial).push(name);
    });
    return { i: -1, path: t[0], name: t[0], dir: t[1] === 'd', size: t[2], mtime: t[3], count: t[1] === 'd' ? t[4] : 1, devs: devs, partial: partial, shares: shares };
  }
  // The active shares of exactly this path, from the manifest: read-only ([share]) and read-write ([share folder]).
  function ownShares(path) {
    var out = { ro: [], rw: [] };
    ((index && index.shares) || []).forEach(function (s) { if (s[1] === path) (s[2] === 'rw' ? out.rw : out.ro).push(s[0]); });
    return out;
  }
  function hereHas(x) { return !!deviceName && x.devs.indexOf(deviceName) >= 0 && (!x.dir || x.count > 0); }
  function requestOn(path) {
    var a = localRequests[path], b = serverRequests[path];
    if (a && b && b.id === a.id) return b.updatedAt >= (a.updatedAt || 0) ? b : a;
    return a || b || null;
  }

  // ---- drawing ------------------------------------------------------------------------
  function rowFor(x, depth, searchMode) {
    var row = el('div', 'row' + (x.dir ? ' dir' : ' file'));
    row.setAttribute('role', 'treeitem');
    row.tabIndex = -1;
    row.dataset.path = x.path;
    row.dataset.i = String(x.i);
    if (x.dir) row.setAttribute('aria-expanded', expanded.has(x.path) ? 'true' : 'false');
    row.style.paddingLeft = searchMode ? '0' : Math.min(depth, 12) * 1.1 + 'rem';
    var tw = el('button', 'tw' + (x.dir && !searchMode ? '' : ' leaf'), x.dir ? (expanded.has(x.path) ? '▾' : '▸') : '');
    tw.type = 'button'; tw.tabIndex = -1;
    tw.setAttribute('aria-label', x.dir ? (expanded.has(x.path) ? 'collapse' : 'expand') : 'file');
    row.appendChild(tw);
    var name = el('button', 'name', (searchMode ? x.path : x.name) + (x.dir ? '/' : ''));
    name.type = 'button'; name.tabIndex = -1;
    name.title = 'Actions for ' + shown(x.path);
    row.appendChild(name);
    var has = hereHas(x);
    var get = el('button', 'lnk get' + (has ? '' : ' strong'), '[get]');
    get.type = 'button'; get.tabIndex = -1;
    row.appendChild(get);
    var open = el('a', 'lnk open' + (has ? ' strong' : ''), '[open]');
    open.href = openHref(x.path, x.dir); open.tabIndex = -1;
    row.appendChild(open);
    row.appendChild(el('span', 'meta size', human(x.size)));
    if (x.dir) row.appendChild(el('span', 'meta count', x.count.toLocaleString() + (x.count === 1 ? ' file' : ' files')));
    row.appendChild(el('span', 'meta date', date(x.mtime)));
    var badges = el('span', 'badges');
    x.devs.forEach(function (d) { badges.appendChild(el('span', 'badge' + (d === deviceName ? ' me' : ''), d)); });
    x.partial.forEach(function (d) { var b = el('span', 'badge part' + (d === deviceName ? ' me' : ''), d + ' (some)'); badges.appendChild(b); });
    if (x.shares.length) badges.appendChild(el('span', 'badge share', x.shares.length === 1 ? 'shared' : 'shared ×' + x.shares.length));
    var zones = depth === 0 && !searchMode ? zonesOf(x.path) : null;
    if (zones) {
      var zb = el('span', 'badge zone' + (zones.length < summary.zones.required ? ' few' : ''), (zones.length === 1 ? 'zone ' : 'zones ') + (zones.join(', ') || 'none'));
      zb.title = zones.length < summary.zones.required ? 'Some files here are kept in fewer than ' + summary.zones.required + ' network zones: a cut of one zone may make them unreachable.' : 'Every file here is kept in these network zones.';
      badges.appendChild(zb);
    }
    row.appendChild(badges);
    var rq = requestOn(x.path);
    if (rq) {
      var label = rq.action + ': ' + rq.state + (rq.reason ? ' (' + rq.reason + ')' : '');
      row.appendChild(el('span', 'state ' + rq.state, label));
    }
    row._x = x;
    return row;
  }
  // Several NAS: the zones that hold every file of a top-level folder (summary.zones, from the NAS).
  var zonesBy = null, zonesFrom = null;
  function zonesOf(p) {
    var z = summary && summary.zones;
    if (!z) return null;
    if (zonesFrom !== z) { zonesFrom = z; zonesBy = new Map(z.folders); }
    return zonesBy.get(p) || null;
  }
  function sortedKids(list) {
    var dirs = [], files = [];
    for (var k = 0; k < list.length; k++) (kind[list[k]] === 1 ? dirs : files).push(list[k]);
    return dirs.concat(files);
  }
  function kidsOf(i) { return i < 0 ? rootKids : Array.prototype.slice.call(childIdx.subarray(childOff[i], childOff[i + 1])); }
  function drawLevel(frag, i, depth) {
    var kids = sortedKids(kidsOf(i));
    var key = i < 0 ? '' : pathOf(i);
    var limit = shownCount[key] || PAGE;
    for (var k = 0; k < kids.length && k < limit; k++) {
      var x = info(kids[k]);
      frag.appendChild(rowFor(x, depth, false));
      if (x.dir && expanded.has(x.path)) drawLevel(frag, kids[k], depth + 1);
    }
    if (kids.length > limit) frag.appendChild(moreButton(key, kids.length - limit, depth));
  }
  function moreButton(key, rest, depth) {
    var b = el('button', 'lnk more', 'show ' + Math.min(rest, PAGE).toLocaleString() + ' more (' + rest.toLocaleString() + ' not shown)');
    b.type = 'button';
    b.style.marginLeft = (depth * 1.1 + 3) + 'rem';
    b.addEventListener('click', function () { shownCount[key] = (shownCount[key] || PAGE) + PAGE; render(); });
    return b;
  }
  function render() {
    var tree = $('tree');
    var frag = document.createDocumentFragment();
    var zw = summary && summary.zones;
    if (zw && zw.under > 0) frag.appendChild(el('p', 'meta zone-warn', zw.under.toLocaleString() + (zw.under === 1 ? ' file is' : ' files are') + ' kept in fewer than ' + zw.required + ' network zones (for example ' + zw.samples.slice(0, 3).map(shown).join(', ') + '): if that zone is cut off, they cannot be fetched until it is back.'));
    if (query) {
      drawSearch(frag);
    } else if (loaded) {
      drawLevel(frag, -1, 0);
      if (n === 0) frag.appendChild(el('p', 'meta', 'The store is empty.'));
    } else if (summary) {
      summary.top.forEach(function (t) {
        var x = infoFromSummary(t);
        frag.appendChild(rowFor(x, 0, false));
        if (x.dir && expanded.has(x.path)) frag.appendChild(el('p', 'meta more', loadError || 'Loading this folder…'));
      });
      if (!summary.topComplete) frag.appendChild(el('p', 'meta more', 'More entries appear when the catalogue finishes loading…'));
    }
    tree.textContent = '';
    tree.appendChild(frag);
    restoreFocus();
  }
  function restoreFocus() {
    var rows = $('tree').querySelectorAll('.row');
    // One row is always reachable with Tab (a roving tabindex): the focused one, or the first.
    if (focusPath !== null) for (var i = 0; i < rows.length; i++) if (rows[i].dataset.path === focusPath) { rows[i].tabIndex = 0; rows[i].classList.add('sel'); if (document.activeElement === document.body || $('tree').contains(document.activeElement)) rows[i].focus({ preventScroll: true }); return; }
    if (rows[0]) rows[0].tabIndex = 0;
  }

  // ---- search: indexOf over one lower-case blob of every path ------------------------------
  var lastResults = [], lastTotalNote = '';
  function entryAt(pos) {
    var lo = 0, hi = n - 1;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (off[mid] <= pos) lo = mid; else hi = mid - 1; }
    return lo;
  }
  // Typing narrows: when the new query extends the last one and the last result list was
  // complete, only those paths can still match, so a keystroke rescans a few lines, not the blob.
  var prevSearch = null;
  function matchesAll(i, terms) {
    var line = lower.slice(off[i], off[i + 1] - 1);
    for (var t = 0; t < terms.length; t++) if (line.indexOf(terms[t]) < 0) return false;
    return true;
  }
  function search(q) {
    var norm = q.toLowerCase().replace(/\s+/g, ' ').trim();
    var terms = norm.split(' ').filter(Boolean);
    var out = [];
    if (!terms.length) return { hits: out, more: false };
    if (prevSearch && !prevSearch.more && norm.indexOf(prevSearch.norm) === 0) {
      for (var k = 0; k < prevSearch.hits.length; k++) if (matchesAll(prevSearch.hits[k], terms)) out.push(prevSearch.hits[k]);
      prevSearch = { norm: norm, hits: out, more: false };
      return prevSearch;
    }
    var first = terms[0], rest = terms.slice(1), from = 0;
    while (out.length <= SEARCH_LIMIT) {
      var at = lower.indexOf(first, from);
      if (at < 0) break;
      var i = entryAt(at);
      if (!rest.length || matchesAll(i, rest)) out.push(i);
      from = off[i + 1];
    }
    var more = out.length > SEARCH_LIMIT;
    if (more) out.length = SEARCH_LIMIT;
    prevSearch = { norm: norm, hits: out, more: more };
    return prevSearch;
  }
  function runSearch() {
    searchShown = SEARCH_SHOW;
    if (!loaded) { lastResults = []; lastTotalNote = 'Search starts when the catalogue has finished loading…'; render(); return; }
    var t0 = performance.now();
    var r = search(query);
    lastResults = r.hits;
    var ms = Math.round(performance.now() - t0);
    lastTotalNote = r.hits.length === 0 ? 'No path contains “' + query + '”.' : (r.more ? 'First ' + SEARCH_LIMIT + ' matches' : r.hits.length + (r.hits.length === 1 ? ' match' : ' matches')) + ' (' + ms + ' ms)';
    window.BURROW_LAST_SEARCH_MS = performance.now() - t0;
    render();
  }
  // Drawing rows costs more than finding them, so a keystroke draws the first SEARCH_SHOW.
  var SEARCH_SHOW = 50, searchShown = SEARCH_SHOW;
  function drawSearch(frag) {
    frag.appendChild(el('p', 'meta', lastTotalNote));
    var k = 0;
    for (; k < lastResults.length && k < searchShown; k++) frag.appendChild(rowFor(info(lastResults[k]), 0, true));
    if (k < lastResults.length) {
      var b = el('button', 'lnk more', 'show ' + Math.min(SEARCH_SHOW, lastResults.length - k) + ' more matches');
      b.type = 'button';
      b.addEventListener('click', function () { searchShown += SEARCH_SHOW; render(); });
      frag.appendChild(b);
    }
  }

  // ---- the menu -----------------------------------------------------------------------
  var menuFor = null;
  function closeMenu() { $('menu').hidden = true; menuFor = null; }
  function openMenu(row) {
    var x = row._x;
    menuFor = x;
    var m = $('menu');
    m.textContent = '';
    m.appendChild(el('div', 'mtitle', x.path + (x.dir ? '/' : '')));
    var has = hereHas(x);
    var add = function (label, action, strong, disabledWhy) {
      var b = el('button', strong ? 'strong' : '', label);
      b.type = 'button'; b.setAttribute('role', 'menuitem'); b.dataset.action = action;
      if (disabledWhy) { b.disabled = true; b.title = disabledWhy; b.setAttribute('aria-disabled', 'true'); }
      else b.addEventListener('click', function () { closeMenu(); ask(action, x); });
      m.appendChild(b);
    };
    add('[get]', 'get', !has);
    var o = el('a', has ? 'strong' : '', '[open]');
    o.href = openHref(x.path, x.dir); o.setAttribute('role', 'menuitem'); o.dataset.action = 'open';
    o.addEventListener('click', closeMenu);
    m.appendChild(o);
    add('[delete]', 'delete');
    add('[destroy]', 'destroy');
    add('[move]', 'move');
    // [revoke] and [revoke share] only for shares of this very entry (a share of something inside a
    // folder is revoked from that entry); the same file can be shared again, to someone else.
    var own = ownShares(x.path);
    add('[share]', 'share');
    if (own.ro.length) add('[revoke]', 'revoke');
    var noTorrent = summary && summary.features && summary.features.torrent === false;
    var why = 'Torrents are turned off on this NAS (torrent.enabled: false in its config).';
    add('[create torrent]', 'torrent', false, noTorrent ? why : null);
    add('[create 1-time torrent]', 'torrent-once', false, noTorrent ? why : null);
    if (noTorrent) m.appendChild(el('div', 'why', why));
    if (x.dir) {
      add('[create folder]', 'mkdir');
      if (own.rw.length) add('[revoke share]', 'revoke-share'); else add('[share folder]', 'share-folder');
      add('[destroy folder]', 'destroy-folder');
    }
    m.hidden = false;
    var r = row.getBoundingClientRect();
    var top = Math.min(r.bottom, window.innerHeight - m.offsetHeight - 8);
    m.style.top = Math.max(8, top) + 'px';
    m.style.left = Math.max(4, Math.min(r.left + 40, window.innerWidth - m.offsetWidth - 4)) + 'px';
    var firstBtn = m.querySelector('button, a');
    if (firstBtn) firstBtn.focus();
  }

  // ---- confirm dialogs ------------------------------------------------------------------
  var dlgDone = null;
  function dialog(title, build, confirmLabel, danger, onConfirm) {
    var body = $('dlg-body');
    body.textContent = '';
    $('dlg-title').textContent = title;
    build(body);
    var c = $('dlg-confirm');
    c.textContent = confirmLabel || 'Confirm';
    c.className = 'big confirm' + (danger ? ' danger' : '');
    c.hidden = !onConfirm;
    $('dlg-cancel').textContent = onConfirm ? 'Cancel' : 'Close';
    $('veil').hidden = false;
    dlgDone = onConfirm;
    $('dlg-cancel').focus();
  }
  function closeDialog() { $('veil').hidden = true; dlgDone = null; restoreFocus(); }
  function p(parent, text, cls) { var e = el('p', cls || '', text); parent.appendChild(e); return e; }
  function where(x) {
    var all = x.devs.concat(x.partial);
    return all.length ? 'the NAS and ' + (all.length === 1 ? 'the device ' : 'the devices ') + all.join(', ') : 'the NAS (no device holds it)';
  }
  function what(x) { return x.dir ? 'the folder ' + x.path + '/ and everything in it (' + x.count.toLocaleString() + ' files, ' + human(x.size) + ')' : 'the file ' + x.path + ' (' + human(x.size) + ')'; }

  function ask(action, x) {
    var dev = deviceName;
    var trash = index && index.trashDays !== undefined ? index.trashDays : 7;
    if (!dev) {
      // Every request names the device that asked; pick it first, then ask again.
      chooseDevice(false, function () { if (deviceName) ask(action, x); });
      return;
    }
    var args = {};
    var send = function () { submit(action, x, args); };
    var others = (index ? index.devices : []).filter(function (d) { return d !== dev; });
    switch (action) {
      case 'get':
        return dialog('Get onto ' + dev + '?', function (b) {
          p(b, 'Bring this onto the device ' + dev + ':'); p(b, x.path + (x.dir ? '/' : ''), 'what');
          p(b, x.dir ? x.count.toLocaleString() + ' files, ' + human(x.size) + '. It syncs to ' + dev + ' when the NAS has linked it.' : human(x.size) + '. It syncs to ' + dev + ' when the NAS has linked it.');
        }, 'Get it', false, send);
      case 'delete':
        return dialog('Delete from ' + dev + '?', function (b) {
          p(b, 'Remove ' + what(x) + ' from this device (' + dev + ') only:'); p(b, x.path + (x.dir ? '/' : ''), 'what');
          p(b, 'The NAS keeps its copy, and other devices keep theirs. You can [get] it back later.');
        }, 'Delete from ' + dev, true, send);
      case 'destroy':
        return dialog('Destroy everywhere?', function (b) {
          p(b, 'This removes ' + what(x) + ':'); p(b, x.path + (x.dir ? '/' : ''), 'what');
          p(b, 'from ' + where(x) + ', and from every share of it.');
          p(b, 'Destroyed data goes to the NAS trash for ' + trash + ' days, then it is gone for good.');
        }, 'Destroy', true, send);
      case 'destroy-folder':
        return dialog('Destroy the contents of this folder?', function (b) {
          p(b, 'This wipes everything inside the folder:'); p(b, x.path + '/', 'what');
          p(b, x.count.toLocaleString() + ' files, ' + human(x.size) + ', from ' + where(x) + '. The folder stays, holding only a note that says it was destroyed by the owner, with the date and time.');
          p(b, 'Destroyed data goes to the NAS trash for ' + trash + ' days, then it is gone for good.');
        }, 'Destroy folder contents', true, send);
      case 'move':
        return dialog('Move to which devices?', function (b) {
          p(b, 'Move ' + what(x) + ' from ' + dev + ' to:'); p(b, x.path + (x.dir ? '/' : ''), 'what');
          if (!others.length) p(b, 'There is no other device to move it to. Add one on the NAS with "burrow device add <name>".', 'warn');
          others.forEach(function (d) {
            var l = el('label'); var c = el('input'); c.type = 'checkbox'; c.value = d; c.name = 'to';
            l.appendChild(c); l.appendChild(el('span', '', d)); b.appendChild(l);
          });
          p(b, 'It leaves ' + dev + ' once the other devices have it.');
        }, 'Move', false, function () {
          args.to = Array.prototype.map.call($('dlg-body').querySelectorAll('input[name=to]:checked'), function (c) { return c.value; });
          if (!args.to.length) { p($('dlg-body'), 'Tick at least one device.', 'warn'); return false; }
          send();
        });
      case 'share':
        return dialog('Share this file?', function (b) {
          p(b, 'Make a read-only share of:'); p(b, x.path, 'what');
          p(b, 'The NAS makes a new share folder for it; you give its read-only secret to whoever should have it. You can revoke it later.');
        }, 'Share', false, send);
      case 'revoke':
      case 'revoke-share':
        return dialog(action === 'revoke' ? 'Revoke the share?' : 'Revoke the folder share?', function (b) {
          p(b, 'Stop sharing ' + x.path + (x.dir ? '/' : '') + ':');
          var s = el('select'); s.id = 'dlg-share';
          var own = ownShares(x.path);
          (action === 'revoke' ? own.ro : own.rw).forEach(function (id) { var o = el('option', '', id); o.value = id; s.appendChild(o); });
          b.appendChild(s);
          p(b, 'Whoever holds that share\u2019s secret stops getting updates; the share folder is taken down. Your own copies are untouched.');
        }, 'Revoke', true, function () { args.shareId = $('dlg-share').value; send(); });
      case 'torrent':
      case 'torrent-once':
        return dialog(action === 'torrent' ? 'Create a torrent?' : 'Create a 1-time torrent?', function (b) {
          p(b, 'Make a .torrent of:'); p(b, x.path + (x.dir ? '/' : ''), 'what');
          p(b, action === 'torrent' ? 'Anyone with the torrent can download it while the NAS seeds it.' : 'The torrent works for one complete download, then stops.');
        }, 'Create torrent', false, send);
      case 'mkdir':
        return dialog('Create a folder', function (b) {
          p(b, 'New folder inside ' + x.path + '/ named:');
          var i = el('input'); i.type = 'text'; i.id = 'dlg-name'; i.maxLength = 255; i.setAttribute('aria-label', 'folder name'); b.appendChild(i);
        }, 'Create folder', false, function () {
          var v = $('dlg-name').value;
          if (!v || v === '.' || v === '..' || v.indexOf('/') >= 0 || v.indexOf('\0') >= 0) { p($('dlg-body'), 'Give a name without "/" (and not "." or "..").', 'warn'); return false; }
          args.name = v; send();
        });
      case 'share-folder':
        return dialog('Share this folder?', function (b) {
          p(b, 'Make a shared folder of ' + x.path + '/ that others can write to, up to a size limit:');
          var l = el('label', '', 'Limit in MB (-1 = as much as is free): ');
          var i = el('input'); i.type = 'number'; i.id = 'dlg-limit'; i.value = '-1'; i.min = '-1'; i.step = '1';
          l.appendChild(i); b.appendChild(l);
        }, 'Share folder', false, function () {
          var v = Number($('dlg-limit').value);
          if (!isFinite(v) || v < -1 || Math.floor(v) !== v) { p($('dlg-body'), 'The limit is a whole number of MB, or -1.', 'warn'); return false; }
          args.limitMb = v; send();
        });
    }
  }

  // ---- talking to the NAS or the device agent --------------------------------------------
  function headers() {
    var h = { 'Content-Type': 'application/json' };
    var t = api.token || (window.BURROW_AGENT && window.BURROW_AGENT.token);
    if (t) h['X-Burrow-Token'] = t;
    // Served by the NAS: the logged-in owner's CSRF token (its /agent.js sets it), sent with the session cookie.
    if (window.BURROW_NAS && window.BURROW_NAS.csrf) h['X-CSRF-Token'] = window.BURROW_NAS.csrf;
    // The phone's web app (web/phone/app.js): its device credential is a cookie; this header proves the app sent it.
    if (window.BURROW_WEBAPP) h['X-Burrow-Device'] = '1';
    return h;
  }
  function creds() { return window.BURROW_NAS || window.BURROW_WEBAPP ? 'same-origin' : 'omit'; }
  // Tell the web app (if any) that one of this page's requests moved on.
  function told(rq) {
    try { document.dispatchEvent(new CustomEvent('burrow-request', { detail: { id: rq.id, action: rq.action, path: rq.path, state: rq.state } })); } catch (e) { /* old browser */ }
  }
  function submit(action, x, args) {
    if (!api.base || (!api.ok && location.protocol === 'file:')) {
      dialog('Nothing was sent', function (b) {
        p(b, 'Actions need the Burrow device agent running on this device.');
        p(b, 'No agent answered at ' + (api.tried || 'http://127.0.0.1:' + (CFG.agentPort || 7422)) + ', so [' + action + '] on ' + x.path + ' was not requested. Start the agent (burrow agent …) and try again; browsing works without it.');
      }, null, false, null);
      return;
    }
    var id = uuid();
    var body = { id: id, device: deviceName || '', action: action, path: x.path, args: args, confirm: true };
    var rq = { id: id, action: action, path: x.path, state: 'pending', updatedAt: Date.now(), x: x };
    localRequests[x.path] = rq;
    render();
    var sent = function (res) {
        return res.text().then(function (t) {
          var j = null; try { j = JSON.parse(t); } catch (e) { /* not JSON */ }
          if (!res.ok) throw new Error((j && (j.message || (j.error && j.error.message) || j.error)) || ('HTTP ' + res.status));
          if (j && j.state) { rq.state = j.state; rq.reason = j.reason; }
          render(); told(rq);
          if (!afterDone(rq, x, j)) offerTorrent(j);
          poll(rq, 0);
        });
      };
    var W = window.BURROW_WEBAPP;
    fetch(api.base + '/api/requests', { method: 'POST', headers: headers(), body: JSON.stringify(body), credentials: creds() })
      .then(sent, function (err) {
        // The web app with the NAS out of reach: the request waits on this phone, shown as
        // waiting, and the app sends it when the NAS answers again (then this page follows it).
        if (!W || !W.queue) throw err;
        rq.state = 'waiting'; rq.reason = 'the NAS is out of reach; sent when it is back'; rq.updatedAt = Date.now();
        render();
        W.queue(body, function (res) {
          return sent(res).catch(function (e) { rq.state = 'failed'; rq.reason = String(e && e.message || e); rq.updatedAt = Date.now(); render(); told(rq); });
        });
      })
      .catch(function (err) {
        rq.state = 'failed'; rq.reason = String(err && err.message || err); rq.updatedAt = Date.now();
        render();
        // Shown on the row and in the status line; a dialog here could land on top of the next one.
        setStatus('[' + action + '] on ' + x.path + ' failed: ' + rq.reason);
      });
  }
  // After [share]: what to hand a friend (the read-only secret as text and QR code, and the
  // command they run), shown once to whoever made the share. The request result carries it.
  function friendOf(j) { var r = j && j.result; return r && r.friend && typeof r.friend.readOnly === 'string' ? r.friend : null; }
  function showFriend(x, f) {
    dialog('Shared: give this to your friend', function (b) {
      p(b, 'Read-only secret for ' + x.path + (x.dir ? '/' : '') + ':');
      var code = el('code', 'secret', f.readOnly); code.id = 'friend-secret'; b.appendChild(code);
      if (typeof f.qrSvg === 'string' && f.qrSvg.indexOf('<svg') === 0) {
        var img = el('img', 'qr'); img.id = 'friend-qr'; img.alt = 'QR code of the read-only secret'; img.width = 200; img.height = 200;
        img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(f.qrSvg);
        b.appendChild(img);
      }
      p(b, 'Your friend installs Burrow and runs:');
      var cmd = el('code', 'secret', f.command); cmd.id = 'friend-command'; b.appendChild(cmd);
      p(b, 'This secret lets them read the share, never change it. Revoke the share to stop it.');
    }, null, false, null);
  }
  function afterDone(rq, x, j) {
    if (rq.action !== 'share' || rq.state !== 'done' || rq.shown) return false;
    var f = friendOf(j);
    // A result without a hint (no sync engine on the NAS, so no secret yet): nothing more will come.
    if (!f && j && j.result) rq.noFriend = true;
    if (!f) return false;
    rq.shown = true;
    if ($('veil').hidden) showFriend(x, f);
    return true;
  }
  var awaitingShares = {};
  // A finished [create torrent]: offer the .torrent (served by the NAS's torrent listener) and the magnet link.
  function offerTorrent(j) {
    var r = j && j.state === 'done' && j.result;
    if (!r || !r.torrentUrl) return;
    dialog(r.kind === 'once' ? '1-time torrent ready' : 'Torrent ready', function (b) {
      var a = el('a', 'torrent-file', 'Download the .torrent'); a.href = r.torrentUrl; a.setAttribute('download', r.torrentId + '.torrent');
      b.appendChild(a);
      p(b, 'Magnet link:'); p(b, r.magnet, 'what');
      p(b, r.kind === 'once' ? 'The NAS serves it for one complete download, then never again.' : 'The NAS serves it to anyone who has it, until it is stopped (burrow torrent stop ' + r.torrentId + ').');
    }, null, false, null);
  }
  function poll(rq, tries) {
    // A share's hint may arrive a little after "done" (it comes through the device's own folder).
    // While it is awaited the page says so, and the live reload waits (data-burrow-awaiting).
    var awaiting = rq.action === 'share' && !rq.shown && !rq.noFriend && rq.state !== 'failed' && tries <= 30;
    if (awaiting) awaitingShares[rq.id] = true; else delete awaitingShares[rq.id];
    if (Object.keys(awaitingShares).length) document.documentElement.setAttribute('data-burrow-awaiting', 'share');
    else document.documentElement.removeAttribute('data-burrow-awaiting');
    if (rq.state === 'failed' || tries > 600 || rq.shown) return;
    if (rq.state === 'done' && (rq.action !== 'share' || rq.noFriend || tries > 30)) return;
    setTimeout(function () {
      fetch(api.base + '/api/requests/' + encodeURIComponent(rq.id), { headers: headers(), credentials: creds() })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (j) {
          if (j && j.state) {
            // Redraw only on a change: a redraw replaces every row, and a click whose mouse-down
            // and mouse-up straddle one is lost (a share is polled for a minute after "done").
            var changed = j.state !== rq.state || j.reason !== rq.reason;
            rq.state = j.state; rq.reason = j.reason; rq.updatedAt = Date.now();
            if (changed) { render(); told(rq); }
            if (!afterDone(rq, rq.x, j)) offerTorrent(j);
          }
          poll(rq, tries + 1);
        })
        .catch(function () { poll(rq, tries + 5); });
    }, tries < 10 ? 500 : 2000);
  }
  function detectApi() {
    var params = new URLSearchParams(location.search);
    if (window.BURROW_WEBAPP) { api.base = location.origin + window.BURROW_WEBAPP.base; api.ok = true; return; }
    if (location.protocol === 'http:' || location.protocol === 'https:') {
      api.base = location.origin; api.ok = true;
      // Only the NAS's own /agent.js (served to its logged-in owner) sets BURROW_NAS: then the page
      // links back to the admin UI. A plain link: it carries no credential, and "/" asks for a login.
      loadScript('/agent.js', function () { if (window.BURROW_NAS) $('admin-link').hidden = false; });
      return;
    }
    var override = params.get('agent') || recall('burrow.agent');
    var base = override && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(override) ? override : 'http://127.0.0.1:' + (CFG.agentPort || 7422);
    api.base = base; api.tried = base;
    var done = false;
    var fail = function () {
      if (done) return; done = true; api.ok = false;
      var a = $('agent');
      a.textContent = 'Browsing only: actions need the Burrow device agent running on this device (nothing answered at ' + base + ').';
      a.hidden = false;
    };
    var timer = setTimeout(fail, 2500);
    fetch(base + '/api/health', { credentials: 'omit' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        clearTimeout(timer);
        // A slow agent (a busy laptop) may answer after the page gave up on it: take it then.
        var late = done && !api.ok;
        done = true; api.ok = true;
        if (late) { $('agent').hidden = true; render(); }
        loadScript(base + '/agent.js', function () {});
      })
      .catch(function () { clearTimeout(timer); fail(); });
  }
  function loadScript(src, after) {
    var s = document.createElement('script');
    s.src = src; s.async = true;
    s.onload = function () { after(true); };
    s.onerror = function () { after(false); };
    document.head.appendChild(s);
  }

  // ---- which device is looking ------------------------------------------------------------
  function chooseDevice(first, then) {
    var devs = index ? index.devices : [];
    dialog('Which device is this?', function (b) {
      p(b, first ? 'The catalogue marks [get] and [open] for the device you are on. Pick it once; this browser remembers.' : 'Pick the device this browser is on.');
      devs.forEach(function (d) {
        var l = el('label'); var r = el('input'); r.type = 'radio'; r.name = 'dev'; r.value = d; if (d === deviceName) r.checked = true;
        l.appendChild(r); l.appendChild(el('span', '', d)); $('dlg-body').appendChild(l);
      });
      var l2 = el('label'); var r2 = el('input'); r2.type = 'radio'; r2.name = 'dev'; r2.value = ''; if (!deviceName) r2.checked = true;
      l2.appendChild(r2); l2.appendChild(el('span', '', 'none: just browsing')); b.appendChild(l2);
    }, 'Use this device', false, function () {
      var c = $('dlg-body').querySelector('input[name=dev]:checked');
      setDevice(c ? c.value : '', true);
      if (then) setTimeout(then, 0);
    });
  }
  function setDevice(name, remember) {
    deviceName = name;
    if (remember) store('burrow.device', name);
    $('device').textContent = 'device: ' + (name || 'none');
    serverRequests = {};
    requestsSeen = null;
    loadRequests();
    render();
  }
  // The request shard is tiny and changes as requests move on; read it again now and then.
  var requestScript = null;
  function loadRequests() {
    if (requestScript) { requestScript.remove(); requestScript = null; }
    if (!deviceName) return;
    requestScript = document.createElement('script');
    requestScript.src = 'devices/' + encodeURIComponent(deviceName) + '.js' + (location.protocol === 'file:' ? '' : '?t=' + Date.now());
    document.head.appendChild(requestScript);
  }
  setInterval(loadRequests, 20000);
  function detectDevice() {
    var params = new URLSearchParams(location.search);
    var q = params.get('device');
    if (q !== null && (q === '' || DEVICE_RE.test(q))) { deviceFixed = true; return setDevice(q, false); }
    var d = window.BURROW_DEVICE && window.BURROW_DEVICE.name;
    if (typeof d === 'string' && DEVICE_RE.test(d)) { deviceFixed = true; return setDevice(d, false); }
    var saved = recall('burrow.device');
    if (saved !== null && (saved === '' || DEVICE_RE.test(saved))) return setDevice(saved, false);
    setDevice('', false);
    if (index && index.devices.length) chooseDevice(true);
  }

  // ---- keyboard and clicks ------------------------------------------------------------------
  function rows() { return Array.prototype.slice.call($('tree').querySelectorAll('.row')); }
  function focusRow(r) {
    if (!r) return;
    rows().forEach(function (x) { x.tabIndex = -1; x.classList.remove('sel'); });
    r.tabIndex = 0; r.classList.add('sel'); r.focus();
    focusPath = r.dataset.path;
  }
  function toggle(row, want) {
    var x = row._x;
    if (!x.dir) return false;
    var isOpen = expanded.has(x.path);
    if (want === isOpen) return false;
    if (isOpen) expanded.delete(x.path); else expanded.add(x.path);
    focusPath = x.path;
    if (query) { query = ''; $('q').value = ''; }
    render();
    return true;
  }
  function onTreeClick(e) {
    var row = e.target.closest('.row');
    if (!row) return;
    focusRow(row);
    if (e.target.closest('.tw')) { toggle(row); return; }
    if (e.target.closest('.get')) { ask('get', row._x); return; }
    if (e.target.closest('.name')) { openMenu(row); return; }
  }
  function onTreeKey(e) {
    var row = e.target.closest && e.target.closest('.row');
    if (!row) return;
    var all = rows(), at = all.indexOf(row);
    switch (e.key) {
      case 'ArrowDown': focusRow(all[at + 1]); break;
      case 'ArrowUp': if (at === 0 && query) $('q').focus(); else focusRow(all[at - 1]); break;
      case 'Home': focusRow(all[0]); break;
      case 'End': focusRow(all[all.length - 1]); break;
      case 'ArrowRight': if (!toggle(row, true) && row._x.dir) focusRow(all[at + 1]); break;
      case 'ArrowLeft':
        if (!toggle(row, false)) {
          var pp = parentPath(row._x.path);
          for (var i = at - 1; i >= 0; i--) if (all[i].dataset.path === pp) { focusRow(all[i]); break; }
        }
        break;
      case 'Enter': case ' ': openMenu(row); break;
      default: return;
    }
    e.preventDefault();
  }
  function onMenuKey(e) {
    var items = Array.prototype.slice.call($('menu').querySelectorAll('button, a'));
    var at = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { (items[at + 1] || items[0]).focus(); e.preventDefault(); }
    else if (e.key === 'ArrowUp') { (items[at - 1] || items[items.length - 1]).focus(); e.preventDefault(); }
    else if (e.key === 'Escape') { closeMenu(); restoreFocus(); e.preventDefault(); }
  }
  var searchTimer = null;
  function onQuery() {
    query = $('q').value.trim();
    clearTimeout(searchTimer);
    if (!query) { render(); return; }
    runSearch();
  }

  // ---- start -------------------------------------------------------------------------------
  window.BURROW_START = function () {
    if (!index || !summary) {
      setStatus('The catalogue data is missing (data/index.js or data/summary.js). Wait for the NAS to publish and for sync to finish, then reload.');
      return;
    }
    $('tree').addEventListener('click', onTreeClick);
    $('tree').addEventListener('keydown', onTreeKey);
    $('menu').addEventListener('keydown', onMenuKey);
    $('q').addEventListener('input', onQuery);
    $('q').addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown') { var r = rows()[0]; if (r) { focusRow(r); e.preventDefault(); } }
      if (e.key === 'Escape') { $('q').value = ''; onQuery(); }
    });
    $('device').addEventListener('click', function () { chooseDevice(false); });
    $('dlg-cancel').addEventListener('click', closeDialog);
    $('dlg-confirm').addEventListener('click', function () {
      var f = dlgDone;
      if (!f) return closeDialog();
      if (f() === false) return;
      closeDialog();
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && !$('veil').hidden) { closeDialog(); e.preventDefault(); return; }
      if (e.key === '/' && document.activeElement !== $('q') && $('veil').hidden) { $('q').focus(); e.preventDefault(); }
    });
    document.addEventListener('click', function (e) {
      if (!$('menu').hidden && !e.target.closest('#menu') && !e.target.closest('.name')) closeMenu();
    });
    setStatus(summaryLine() + ' — loading…');
    chunkOrder = index.chunks.slice();
    detectDevice();
    render();
    detectApi();
    if (chunkOrder.length === 0) { finishLoad(); return; }
    // Draw first, then pull the shards in order (async=false keeps their order).
    requestAnimationFrame(function () {
      setTimeout(function () {
        var head = document.head;
        chunkOrder.forEach(function (name) {
          var s = document.createElement('script');
          s.async = false;
          s.src = 'data/c-' + name + '.js';
          s.onerror = function () {
            if (loadError) return;
            loadError = 'Part of the catalogue (' + name + ') is missing: the NAS is publishing or sync is still running. Trying again in a moment.';
            setStatus(loadError);
            retryLoadSoon();
          };
          head.appendChild(s);
        });
      }, 0);
    });
  };
})();
