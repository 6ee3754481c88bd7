// Admin UI: reads the NAS's JSON API and renders it, and sends the owner's changes. Every value
// goes in through textContent, never innerHTML, so a hostile file or device name is shown as text.
// The page refreshes when the NAS says something changed (server-sent events), not on a timer.
'use strict';

// Control and bidi-control characters in names are shown as ⟨U+XXXX⟩, never obeyed: U+202E
// would otherwise make "evil\u202Egpj.exe" read as "evilexe.jpg". Cells are bidi-isolated (admin.css).
const HIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;
function shown(s) {
  return String(s).replace(HIDDEN_CHARS, (c) => '\u27e8U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + '\u27e9');
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = shown(text);
  if (cls) e.className = cls;
  return e;
}

// formatBytes comes from format-bytes.js (loaded before this script): Burrow's one byte formatter.
function bytes(n) {
  return n === null || n === undefined ? '—' : formatBytes(n);
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : '—';
}

function ago(ms) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 129600) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

function toLogin() {
  location.replace('/login?next=' + encodeURIComponent(location.pathname + location.hash));
  return new Error('not logged in');
}

async function getJson(url) {
  const r = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (r.status === 401) throw toLogin();
  if (r.status === 404) return undefined;
  if (!r.ok) throw new Error(url + ' answered ' + r.status);
  return r.json();
}

// Changes carry the CSRF token this page's session hands out (GET /api/session).
let csrfToken = null;
async function send(method, url, body) {
  if (!csrfToken) csrfToken = (await getJson('/api/session')).csrfToken;
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken }, body: JSON.stringify(body || {}), credentials: 'same-origin' });
  if (r.status === 401) throw toLogin();
  const j = await r.json().catch(() => ({}));
  if (r.status === 403) csrfToken = null;
  if (!r.ok) throw new Error((j.message || url + ' answered ' + r.status) + (j.hint ? ' ' + j.hint : ''));
  return j;
}

function button(text, onClick, cls) {
  const b = el('button', text, cls);
  b.type = 'button';
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await onClick();
    } catch (err) {
      showBanner(err.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function showBanner(text) {
  const banner = document.getElementById('banner');
  banner.textContent = text;
  banner.hidden = false;
}

/** A shared folder's use against its limit ("read-only" for a plain share); refused files are named as such. */
function shareUse(x) {
  if (x.usedBytes === undefined || x.usedBytes === null) return el('span', 'read-only', 'empty');
  const text = bytes(x.usedBytes) + ' / ' + (x.limitBytes === null ? 'no limit' : bytes(x.limitBytes)) + (x.refusedFiles ? ' (' + x.refusedFiles + ' refused: over the limit)' : '');
  return el('span', text, x.refusedFiles ? 'share-use over' : 'share-use');
}

/** Rows of a table that turns into cards on a phone: each cell carries its column's name. */
function fillRows(tbody, rows, emptyText) {
  const heads = [...tbody.closest('table').querySelectorAll('thead th')].map((th) => th.textContent);
  tbody.replaceChildren();
  if (!rows || rows.length === 0) {
    const tr = el('tr');
    const td = el('td', emptyText, 'empty');
    td.colSpan = heads.length;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const cells of rows) {
    const tr = el('tr');
    cells.forEach((c, i) => {
      const td = c instanceof Node ? el('td') : el('td', c);
      if (c instanceof Node) td.append(c);
      td.dataset.label = heads[i] || '';
      tr.append(td);
    });
    tbody.append(tr);
  }
}

function group(...nodes) {
  const s = el('span', undefined, 'actions');
  s.append(...nodes);
  return s;
}

async function showJoin(name) {
  const j = await getJson('/api/admin/devices/' + encodeURIComponent(name) + '/join');
  document.getElementById('join-title').textContent = 'Join string for ' + j.name;
  document.getElementById('join-string').textContent = j.join;
  document.getElementById('join-qr').src = j.qr;
  document.getElementById('join').hidden = false;
}

// A phone with nothing installed: a one-time link to open in its browser (the QR code to scan).
async function showWebLink(name) {
  const j = await send('POST', '/api/admin/devices/' + encodeURIComponent(name) + '/web-link', {});
  document.getElementById('join-title').textContent = 'Browser link for ' + j.device + ' (works once, for 24 hours)' + (j.trusted ? '' : ': ' + j.origin + ' is not an HTTPS address a phone trusts; set http.publicUrl (README, "Add your phone or laptop")');
  document.getElementById('join-string').textContent = j.url;
  document.getElementById('join-qr').src = j.qr;
  document.getElementById('join').hidden = false;
}

async function revokeWeb(name) {
  if (!confirm('Sign out every browser (phone web app) of ' + name + ', and void its unused links? Files already on the phone stay there.')) return;
  const j = await send('POST', '/api/admin/devices/' + encodeURIComponent(name) + '/web-revoke', {});
  showBanner(j.revoked ? name + ': ' + j.revoked + ' browser credential(s) and link(s) revoked.' : name + ' had no browser signed in.');
}

async function setLimit(name, current) {
  const input = prompt('Storage limit for ' + name + ' in MiB (empty for no limit)', current ? String(Math.round(current / 1048576)) : '');
  if (input === null) return;
  const limitMb = input.trim() === '' ? null : Number(input);
  if (limitMb !== null && (!isFinite(limitMb) || limitMb < 0)) throw new Error('The limit must be a number of MiB, or empty for none.');
  await send('PUT', '/api/admin/devices/' + encodeURIComponent(name) + '/limit', { limitMb });
  await refresh();
}

async function removeDevice(name) {
  if (!confirm('Remove the device ' + name + '? Syncing with it stops and its links go; the store keeps every file, and what only ' + name + ' held goes to the trash.')) return;
  const st = await send('DELETE', '/api/admin/devices/' + encodeURIComponent(name));
  if (st.state !== 'done') throw new Error('Not removed: ' + (st.reason || st.state));
  await refresh();
}

// One strip per device; the <img> elements are kept while the device list stays the same.
function renderAvailability(devices, version) {
  const box = document.getElementById('availability');
  const names = (devices || []).map((d) => d.name);
  if ([...box.querySelectorAll('img')].map((i) => i.dataset.device).join('\n') !== names.join('\n')) {
    box.replaceChildren(...names.map((n) => {
      const img = el('img');
      img.dataset.device = n;
      img.alt = 'When ' + n + ' was reachable over the last 7 days';
      img.width = 400;
      return img;
    }));
    if (names.length === 0) box.replaceChildren(el('p', 'No devices yet.', 'empty'));
  }
  for (const img of box.querySelectorAll('img')) img.src = '/api/admin/charts/availability/' + encodeURIComponent(img.dataset.device) + '.svg?days=7&v=' + version;
}

function renderDevices(devices) {
  devices = devices || []; // an older NAS without the admin device API: show none rather than fail the page
  fillRows(
    document.getElementById('device-rows'),
    devices.map((d) => {
      const contact = el('span', (d.online ? 'online' : 'offline') + ', last contact ' + ago(d.lastContact), d.online ? 'online' : 'offline');
      contact.title = d.lastContact ? when(d.lastContact) : 'its agent has not reported yet';
      return [d.name, d.files, bytes(d.bytes), d.quotaBytes ? bytes(d.quotaBytes) : 'none', contact, d.pinned && d.pinned.length ? d.pinned.join(', ') : 'nothing', group(button('Join / QR', () => showJoin(d.name)), button('Browser link', () => showWebLink(d.name)), button('Sign out browsers', () => revokeWeb(d.name)), button('Set limit', () => setLimit(d.name, d.quotaBytes)), button('Remove', () => removeDevice(d.name), 'danger'))];
    }),
    'No devices yet: add one above.',
  );
  const select = document.getElementById('request-device');
  const want = ['@nas', ...devices.map((d) => d.name)];
  if ([...select.options].map((o) => o.value).join('\n') !== want.join('\n')) {
    const keep = select.value;
    select.replaceChildren(...want.map((n) => {
      const o = el('option', n === '@nas' ? '@nas (this NAS)' : n);
      o.value = n;
      return o;
    }));
    select.value = want.includes(keep) ? keep : '@nas';
  }
}

async function showShareQr(id) {
  const j = await getJson('/api/admin/shares/' + encodeURIComponent(id) + '/qr');
  if (!j) throw new Error('This share has no read-only secret yet.');
  document.getElementById('share-qr-title').textContent = 'Read-only secret of ' + id;
  document.getElementById('share-qr').src = j.qr;
  document.getElementById('share-qr-box').hidden = false;
}

async function revoke(x) {
  if (!confirm('Revoke ' + x.id + ' (' + x.path + ')? Friends holding its secret lose access.')) return;
  await send('POST', '/api/admin/shares/' + encodeURIComponent(x.id) + '/revoke');
  await refresh();
}

function renderShares(shares, revoked) {
  fillRows(
    document.getElementById('share-rows'),
    (shares || []).map((x) => [el('span', x.id, 'share-id'), x.path, when(x.createdAt), shareUse(x), x.readOnlySecret ? el('span', x.readOnlySecret, 'secret') : el('span', 'no secret (sync engine not running)', 'empty'), group(...(x.readOnlySecret ? [button('QR', () => showShareQr(x.id))] : []), button('Revoke', () => revoke(x), 'danger'))]),
    shares ? 'Nothing shared.' : 'Shares are not available on this NAS version.',
  );
  fillRows(document.getElementById('revoked-rows'), (revoked || []).map((x) => [el('span', x.id, 'share-id'), x.path, when(x.revokedAt), x.revokedTo || '—']), 'No revoked shares.');
}

async function restore(item) {
  await send('POST', '/api/trash/' + encodeURIComponent(item.id) + '/restore');
  await refresh();
}

function renderTrash(items) {
  fillRows(
    document.getElementById('trash-rows'),
    (items || []).map((i) => [(i.kind === 'removed-device' ? '' : 'files/') + i.originalPath, i.kind + ', ' + i.files + ' files, ' + bytes(i.bytes), new Date(i.trashedAt).toLocaleString(), new Date(i.expiresAt).toLocaleString(), group(button('Restore', () => restore(i)))]),
    'The trash is empty.',
  );
  document.getElementById('trash-empty').disabled = !items || items.length === 0;
}

function showJob(p) {
  const bar = document.getElementById('progress-' + p.job);
  const status = document.getElementById('status-' + p.job);
  if (!bar || !status) return;
  bar.hidden = false;
  bar.value = p.percent || 0;
  status.textContent = p.state === 'running' ? 'running, ' + (p.percent || 0) + '%' + (p.phase ? ' (' + p.phase + ' ' + p.done + '/' + p.total + ')' : '') : p.state + ' (' + (p.percent || 0) + '%)' + (p.summary ? ': ' + p.summary : '');
  status.dataset.state = p.state;
  document.getElementById('run-' + p.job).disabled = p.state === 'running';
}

async function setPaused(folder, paused) {
  await send('POST', '/api/admin/sync/' + (paused ? 'pause' : 'resume'), { folder });
  await refresh();
}

async function keepSide(folder, c, keep) {
  const name = keep === 'copy' ? c.copy.path : c.original.path;
  const other = keep === 'copy' ? (c.original ? c.original.path : null) : c.copy.path;
  if (!confirm('Keep ' + name + (other ? '? ' + other + ' goes to the trash (you can restore it there).' : '?'))) return;
  await send('POST', '/api/admin/sync/conflicts/keep', { folder, copy: c.copy.path, keep });
  await refresh();
}

function version(v) {
  return v ? bytes(v.size) + ', ' + when(v.mtime) : 'gone';
}

function renderSync(s) {
  const folders = (s && s.folders) || [];
  const paused = folders.filter((f) => f.paused).length;
  document.getElementById('sync-state').textContent = !s ? '' : s.running ? 'The sync engine serves ' + folders.length + ' folders' + (paused ? ' (' + paused + ' paused)' : '') + '.' : 'The sync engine is not running: ' + s.error;
  fillRows(
    document.getElementById('sync-rows'),
    folders.map((f) => {
      const p = f.progress;
      const progress = f.paused ? el('span', 'paused', 'paused') : p.inSync ? 'in sync' : bytes(p.bytesDone) + ' done, ' + bytes(p.bytesLeft) + ' (' + p.filesLeft + ' files) left';
      const peers = f.peers.length ? f.peers.map((x) => x.address + ' (' + x.level + ', in ' + bytes(x.bytesIn) + ', out ' + bytes(x.bytesOut) + ')').join('; ') : 'no peer connected';
      const moved = f.traffic ? 'in ' + bytes(f.traffic.bytesIn) + ', out ' + bytes(f.traffic.bytesOut) : '—';
      const error = f.error ? el('span', f.error.message + (f.error.peer ? ' (' + f.error.peer + ')' : '') + ', ' + ago(f.error.at), 'message') : el('span', 'none', 'empty');
      const act = f.id.startsWith('catalogue:') ? el('span', '—', 'empty') : group(f.paused ? button('Resume', () => setPaused(f.id, false)) : button('Pause', () => setPaused(f.id, true)));
      const row = [el('span', f.id, 'share-id'), f.mode, progress, f.paused ? '—' : bytes(p.rate) + '/s', moved, peers, error, act];
      return row;
    }),
    'No folder is served.',
  );
  const conflicts = [];
  for (const f of folders) for (const c of f.conflicts || []) conflicts.push([el('span', f.id, 'share-id'), c.original ? c.original.path : c.copy.path, version(c.original), version(c.copy) + ', the version of ' + (c.versionOf || c.copy.keptBy), group(...(c.original ? [button('Keep this (winner)', () => keepSide(f.id, c, 'original'))] : []), button('Keep the one aside', () => keepSide(f.id, c, 'copy')))]);
  fillRows(document.getElementById('conflict-rows'), conflicts, 'No conflicts.');
}

function renderGroup(g) {
  const members = (g && g.members) || [];
  document.getElementById('group-state').textContent = !g
    ? ''
    : members.length === 0
      ? 'This NAS is in no group. To keep the store in a second place (another house, another ISP): burrow nas invite here, burrow nas join on the other NAS.'
      : members.length + ' members in ' + g.zones.length + ' zone(s); the whole store is held in ' + (g.zonesHoldingAll.join(', ') || 'no zone') + '; every file should be in ' + g.requiredZones + ' zone(s).';
  document.getElementById('group-warnings').replaceChildren(...((g && g.warnings) || []).map((w) => el('li', w, 'message')));
  fillRows(
    document.getElementById('member-rows'),
    members.map((m) => [
      el('span', m.name + (m.self ? ' (this NAS)' : '') + ' · ' + m.id, 'share-id'),
      m.zone,
      m.addresses.join(', ') || '—',
      m.self ? 'now' : ago(m.lastReachableAt),
      m.availability7d === null ? '—' : (m.availability7d * 100).toFixed(1) + ' %',
      (m.heldFiles === null ? '?' : m.heldFiles + ' files, ' + bytes(m.heldBytes)) + (m.diskFull ? ' — DISK FULL: takes no new files' : ''),
    ]),
    'No other NAS.',
  );
  // Top-level folders, and any deeper one whose zones differ (those in too few zones come first).
  const p = g && g.placement;
  document.getElementById('zone-state').textContent = !p
    ? members.length === 0 ? '' : 'Not worked out yet: it is, a few seconds after the group sync starts, then every 10 minutes (burrow nas list does it at once).'
    : (p.under === 0 ? 'Every file' : p.files - p.under + ' of ' + p.files + ' files') + ' in ' + p.required + ' zone(s) or more, as of ' + ago(p.computedAt) + '.';
  fillRows(
    document.getElementById('zone-rows'),
    ((p && p.folders) || []).map((f) => [
      el('span', f.path === '' ? 'files/ (everything)' : f.path + '/', 'share-id'),
      String(f.files),
      bytes(f.bytes),
      f.zones.join(', ') || 'none',
      f.under > 0 ? el('span', String(f.under), 'message') : '0',
    ]),
    members.length === 0 ? 'No group.' : 'Nothing worked out yet.',
  );
}

async function stopTorrent(t) {
  if (!confirm('Stop serving ' + t.name + '?')) return;
  await send('POST', '/api/torrents/' + encodeURIComponent(t.id) + '/stop');
  await refresh();
}

function renderTorrents(list) {
  fillRows(
    document.getElementById('torrent-rows'),
    ((list && list.torrents) || []).map((t) => [
      t.name,
      t.source_path,
      t.kind === 'once' ? 'one-time' : 'public',
      t.state + (t.stop_reason ? ': ' + t.stop_reason : ''),
      t.downloads + ' (' + bytes(t.bytes_served) + ' served)',
      t.state === 'active' ? group(button('Stop', () => stopTorrent(t), 'danger')) : el('span', '—', 'empty'),
    ]),
    list ? 'No torrent yet.' : 'Torrents are not available on this NAS.',
  );
}

// Each refresh of the log is numbered: an answer that comes back after a newer one was asked for
// (the device filter changed while a live update was fetching) is dropped, never drawn over it.
let requestsAsked = 0;
async function refreshRequests() {
  const asked = ++requestsAsked;
  const device = document.getElementById('request-device').value;
  const rows = await getJson('/api/requests?limit=50&device=' + encodeURIComponent(device));
  if (asked !== requestsAsked || device !== document.getElementById('request-device').value) return;
  fillRows(document.getElementById('request-rows'), (rows || []).map((r) => [r.action, r.path || '.', r.state + (r.reason ? ': ' + r.reason : ''), when(r.updatedAt)]), 'No requests from ' + device + '.');
}

let chartVersion = 0;
async function refresh() {
  try {
    const s = await getJson('/api/status');
    const facts = document.getElementById('storage-facts');
    facts.replaceChildren();
    const add = (k, v) => { facts.append(el('dt', k), el('dd', v)); };
    add('Files', s.files + ' in ' + s.folders + ' folders');
    add('Size', bytes(s.bytes));
    add('Hashed', s.hash.hashedFiles + ' / ' + s.hash.totalFiles + ' files (' + s.hash.percent + '%)' + (s.hashing ? ', hashing…' : ''));
    if (s.errors) add('Unreadable entries', s.errors);
    chartVersion++;
    document.getElementById('chart-storage').src = '/api/admin/charts/storage.svg?v=' + chartVersion;
    document.getElementById('chart-device-limits').src = '/api/admin/charts/device-limits.svg?v=' + chartVersion;
    document.getElementById('chart-dedupe-saved').src = '/api/admin/charts/dedupe-saved.svg?v=' + chartVersion;
    document.getElementById('chart-sync-activity').src = '/api/admin/charts/sync-activity.svg?v=' + chartVersion;
    const devices = await getJson('/api/admin/devices');
    renderDevices(devices);
    renderAvailability(devices, chartVersion);
    renderSync(await getJson('/api/admin/sync'));
    renderGroup(await getJson('/api/admin/group'));
    renderShares(await getJson('/api/admin/shares'), await getJson('/api/admin/shares/revoked'));
    const jobs = await getJson('/api/jobs');
    fillRows(document.getElementById('job-rows'), jobs ? jobs.map((j) => [j.job, when(j.startedAt), j.summary]) : [], jobs ? 'No job has run yet.' : 'Job history is not available on this NAS version.');
    const sched = await getJson('/api/admin/jobs/schedule');
    for (const j of (sched && sched.scheduled) || []) document.getElementById('next-' + j.name).textContent = 'next run: ' + (j.nextRun ? when(j.nextRun) : 'not scheduled') + ' (' + j.schedule + ')';
    renderTrash(await getJson('/api/trash'));
    renderTorrents(await getJson('/api/torrents').catch(() => undefined));
    await refreshRequests();
    document.getElementById('banner').hidden = true;
    document.body.dataset.refreshed = String(Date.now());
  } catch (err) {
    showBanner('Cannot reach the NAS API: ' + err.message + '. Is "burrow start" running?');
  }
}

// Many events can arrive at once (a request changes state several times): one refresh at a time,
// at most a few a second, and one more after it if something changed meanwhile.
let pending = null;
let running = null;
let again = false;
function refreshSoon() {
  if (running) {
    again = true;
    return;
  }
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    running = refresh().finally(() => {
      running = null;
      if (again) {
        again = false;
        refreshSoon();
      }
    });
  }, 300);
}

function listen() {
  const live = document.getElementById('live');
  const es = new EventSource('/api/admin/events');
  es.addEventListener('open', () => { live.textContent = 'live'; live.dataset.state = 'live'; });
  es.addEventListener('error', () => { live.textContent = 'reconnecting…'; live.dataset.state = 'down'; });
  es.addEventListener('hello', (e) => {
    const d = JSON.parse(e.data);
    for (const [job, st] of Object.entries(d.jobs || {})) showJob({ job, state: 'running', percent: st.percent });
    refreshSoon();
  });
  es.addEventListener('job-progress', (e) => {
    const p = JSON.parse(e.data);
    showJob(p);
    if (p.state !== 'running') refreshSoon();
  });
  for (const name of ['request-updated', 'links-changed', 'worklist-changed', 'admin-changed', 'sync-activity', 'tick']) es.addEventListener(name, refreshSoon);
}

document.getElementById('device-add').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = document.getElementById('device-message');
  msg.hidden = true;
  const name = document.getElementById('device-name').value.trim();
  const limit = document.getElementById('device-limit').value.trim();
  try {
    const d = await send('POST', '/api/admin/devices', { name, limitMb: limit === '' ? null : Number(limit) });
    document.getElementById('device-add').reset();
    await showJoin(d.name);
    await refresh();
  } catch (err) {
    msg.textContent = 'Not added: ' + err.message;
    msg.hidden = false;
  }
});
document.getElementById('join-close').addEventListener('click', () => { document.getElementById('join').hidden = true; });
document.getElementById('share-qr-close').addEventListener('click', () => { document.getElementById('share-qr-box').hidden = true; });
for (const job of ['dedupe', 'balance']) {
  document.getElementById('run-' + job).addEventListener('click', async () => {
    try {
      await send('POST', '/api/admin/jobs/' + job + '/run');
    } catch (err) {
      showBanner(err.message);
    }
  });
}
document.getElementById('trash-empty').addEventListener('click', async () => {
  if (!confirm('Remove everything in the trash for good?')) return;
  try {
    await send('POST', '/api/trash/empty', { all: true });
    await refresh();
  } catch (err) {
    showBanner(err.message);
  }
});
document.getElementById('request-device').addEventListener('change', () => refreshRequests().catch((err) => showBanner(err.message)));

// Log out: a state change, so it carries the CSRF token the session hands to this page.
document.getElementById('logout').addEventListener('click', async () => {
  const s = await getJson('/api/session');
  await fetch('/api/logout', { method: 'POST', headers: { 'x-csrf-token': s.csrfToken }, credentials: 'same-origin' });
  location.replace('/login');
});

refresh();
listen();
