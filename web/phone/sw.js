/* Burrow web app: service worker (scope /app/). Plain ES2017.
 * - The app shell and the catalogue (page, data shards, device.js, request list) come from the
 *   NAS when it answers and from the cache when it does not, so browsing and search work in
 *   airplane mode with the catalogue as it was last seen.
 * - /app/files/<path> ([open]) is answered from the Origin Private File System, where the app
 *   keeps the complete files this device got (files/<path>); nothing half-stored is ever there.
 * - /app/api/ always goes to the network: actions and downloads never come from a cache. */
'use strict';
var CACHE = 'burrow-app-1';
var SHELL = ['/app/app.js', '/app/manifest.webmanifest', '/app/icon.svg'];
var NETWORK_WAIT_MS = 4000;

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf('/app/') !== 0) return;
  var p = url.pathname;
  if (p.indexOf('/app/api/') === 0) return;
  if (p.indexOf('/app/files/') === 0 && p !== '/app/files/.burrow/device.js') { e.respondWith(fromDevice(req, p)); return; }
  e.respondWith(networkFirst(req));
});

function cacheKey(req) {
  var u = new URL(req.url);
  return u.origin + u.pathname; // devices/<d>.js?t=… is one entry
}

function networkFirst(req) {
  return new Promise(function (resolve) {
    var settled = false;
    var finish = function (r) { if (!settled) { settled = true; resolve(r); } };
    fetch(req, { cache: 'no-store' }).then(function (res) {
      if (res.ok) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { return c.put(cacheKey(req), copy); });
      }
      finish(res);
    }, function () {
      cached(req).then(function (r) { finish(r || offlineAnswer(req)); });
    });
    // A NAS that does not answer at all (not just "offline") must not leave the page blank.
    setTimeout(function () { cached(req).then(function (r) { if (r) finish(r); }); }, NETWORK_WAIT_MS);
  });
}

function cached(req) {
  return caches.open(CACHE).then(function (c) { return c.match(cacheKey(req)); });
}

function offlineAnswer(req) {
  var page = (req.headers.get('accept') || '').indexOf('text/html') >= 0;
  return new Response(page ? '<!DOCTYPE html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Offline</title><p>The NAS is out of reach and this page was never loaded here before. Try again when the NAS answers.</p>' : '/* offline and not cached */',
    { status: 503, headers: { 'Content-Type': page ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' } });
}

var TYPES = { txt: 'text/plain; charset=utf-8', md: 'text/plain; charset=utf-8', csv: 'text/plain; charset=utf-8', json: 'application/json', pdf: 'application/pdf',
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', heic: 'image/heic',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', flac: 'audio/flac', wav: 'audio/wav', mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime',
  html: 'text/plain; charset=utf-8', htm: 'text/plain; charset=utf-8' };

function typeOf(name) {
  var m = /\.([A-Za-z0-9]+)$/.exec(name);
  return (m && TYPES[m[1].toLowerCase()]) || 'application/octet-stream';
}

/** [open]: the complete copy in this browser's storage (files/<path>), else the NAS's explanation. */
function fromDevice(req, p) {
  var parts;
  try { parts = p.slice('/app/files/'.length).split('/').map(decodeURIComponent); } catch (err) { return fetch(req); }
  if (!parts.length || parts[parts.length - 1] === '') return fetch(req).catch(function () { return offlineAnswer(req); });
  return navigator.storage.getDirectory()
    .then(function (root) { return parts.slice(0, -1).reduce(function (d, n) { return d.then(function (h) { return h.getDirectoryHandle(n); }); }, root.getDirectoryHandle('files')); })
    .then(function (dir) { return dir.getFileHandle(parts[parts.length - 1]); })
    .then(function (fh) { return fh.getFile(); })
    .then(function (file) { return answerFile(req, file, parts[parts.length - 1]); }, function () {
      return fetch(req).catch(function () {
        return new Response('<!DOCTYPE html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Not here</title><p>This file is not stored on this device yet, and the NAS is out of reach.</p>', { status: 404, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
      });
    });
}

function answerFile(req, file, name) {
  // sandbox: a stored HTML or SVG file runs no script as this app (it would otherwise hold the device's credential).
  var h = { 'Content-Type': typeOf(name), 'Content-Security-Policy': 'sandbox', 'X-Content-Type-Options': 'nosniff', 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' };
  var range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.get('range') || '');
  if (range && (range[1] || range[2])) {
    var size = file.size;
    var start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    var end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || start > end) return new Response('', { status: 416, headers: { 'Content-Range': 'bytes */' + size } });
    h['Content-Range'] = 'bytes ' + start + '-' + end + '/' + size;
    h['Content-Length'] = String(end - start + 1);
    return new Response(file.slice(start, end + 1), { status: 206, headers: h });
  }
  h['Content-Length'] = String(file.size);
  return new Response(file, { status: 200, headers: h });
}
