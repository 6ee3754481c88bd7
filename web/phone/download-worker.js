/* Burrow web app: one download into the Origin Private File System, in a dedicated worker, where
 * a synchronous access handle writes each chunk straight into parts/<name> as it arrives (the
 * fast path; a page can only use the slower async writable). Plain ES2017.
 * In:  {url, name, have, etag}   (have: bytes already in the part file, to resume from)
 * Out: {progress: got} … then {done: got, etag} or {error, quota, got}. */
'use strict';
self.onmessage = async function (e) {
  var m = e.data, handle = null, got = m.have;
  try {
    var root = await navigator.storage.getDirectory();
    var parts = await root.getDirectoryHandle('parts', { create: true });
    var fh = await parts.getFileHandle(m.name, { create: true });
    var headers = {};
    if (m.have > 0) { headers.Range = 'bytes=' + m.have + '-'; if (m.etag) headers['If-Range'] = m.etag; }
    var res = await fetch(m.url, { headers: headers, credentials: 'same-origin', cache: 'no-store' });
    if (res.status !== 200 && res.status !== 206) { self.postMessage({ status: res.status, got: got }); return; }
    if (res.status === 200) got = 0;
    self.postMessage({ etag: res.headers.get('ETag'), got: got });
    handle = await fh.createSyncAccessHandle();
    handle.truncate(got);
    var reader = res.body.getReader(), last = 0;
    for (;;) {
      var c = await reader.read();
      if (c.done) break;
      var n = handle.write(c.value, { at: got });
      if (n !== c.value.length) throw Object.assign(new Error('short write'), { name: 'QuotaExceededError' });
      got += n;
      if (Date.now() - last > 200) { last = Date.now(); self.postMessage({ progress: got }); }
    }
    handle.flush(); handle.close(); handle = null;
    self.postMessage({ done: got });
  } catch (err) {
    // What arrived stays in the part file (flushed), so the next attempt asks only for the rest.
    if (handle) { try { handle.flush(); got = handle.getSize(); handle.close(); } catch (e2) { /* gone */ } }
    self.postMessage({ error: String(err && err.message || err), quota: !!(err && (err.name === 'QuotaExceededError' || /quota/i.test(String(err.message || '')))), got: got });
  }
};
