// Admin UI: reads the NAS's JSON API and renders it. Every value goes in through textContent,
// never innerHTML, so a hostile file or device name is shown as text.
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

async function getJson(url) {
  const r = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (r.status === 401) {
    location.replace('/login?next=' + encodeURIComponent(location.pathname + location.hash));
    throw new Error('not logged in');
  }
  if (r.status === 404) return undefined;
  if (!r.ok) throw new Error(url + ' answered ' + r.status);
  return r.json();
}

/** A shared folder's use against its limit ("read-only" for a plain share); refused files are named as such. */
function shareUse(x) {
  if (x.usedBytes === undefined || x.usedBytes === null) return el('span', 'read-only', 'empty');
  const text = bytes(x.usedBytes) + ' / ' + (x.limitBytes === null ? 'no limit' : bytes(x.limitBytes)) + (x.refusedFiles ? ' (' + x.refusedFiles + ' refused: over the limit)' : '');
  return el('span', text, x.refusedFiles ? 'share-use over' : 'share-use');
}

function fillRows(tbody, rows, cols, emptyText) {
  tbody.replaceChildren();
  if (!rows || rows.length === 0) {
    const tr = el('tr');
    const td = el('td', emptyText, 'empty');
    td.colSpan = cols;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const cells of rows) {
    const tr = el('tr');
    for (const c of cells) tr.append(c instanceof Node ? wrapTd(c) : el('td', c));
    tbody.append(tr);
  }
}

function wrapTd(node) {
  const td = el('td');
  td.append(node);
  return td;
}

async function refresh() {
  const banner = document.getElementById('banner');
  try {
    const s = await getJson('/api/status');
    const facts = document.getElementById('storage-facts');
    facts.replaceChildren();
    const add = (k, v) => { facts.append(el('dt', k), el('dd', v)); };
    add('Files', s.files + ' in ' + s.folders + ' folders');
    add('Size', bytes(s.bytes));
    add('Hashed', s.hash.hashedFiles + ' / ' + s.hash.totalFiles + ' files (' + s.hash.percent + '%)' + (s.hashing ? ', hashing…' : ''));
    if (s.errors) add('Unreadable entries', s.errors);
    const devices = (await getJson('/api/devices')) || s.devices;
    fillRows(document.getElementById('device-rows'), devices.map((d) => [d.name, d.files, bytes(d.bytes), d.quotaBytes ? bytes(d.quotaBytes) : 'none', el('code', 'burrow device join ' + d.name)]), 5, 'No devices yet.');
    const shares = await getJson('/api/admin/shares');
    fillRows(document.getElementById('share-rows'), shares ? shares.map((x) => [el('span', x.id, 'share-id'), x.path, new Date(x.createdAt).toLocaleString(), shareUse(x), x.readOnlySecret ? el('span', x.readOnlySecret, 'secret') : el('span', 'no secret (sync engine not running)', 'empty')]) : [], 5, shares ? 'Nothing shared.' : 'Shares are not available on this NAS version.');
    const jobs = await getJson('/api/jobs');
    fillRows(document.getElementById('job-rows'), jobs ? jobs.map((j) => [j.job, new Date(j.startedAt).toLocaleString(), j.summary]) : [], 3, jobs ? 'No job has run yet.' : 'Job history is not available on this NAS version.');
    banner.hidden = true;
  } catch (err) {
    banner.textContent = 'Cannot reach the NAS API: ' + err.message + '. Is "burrow start" running?';
    banner.hidden = false;
  }
}

// Log out: a state change, so it carries the CSRF token the session hands to this page.
document.getElementById('logout').addEventListener('click', async () => {
  const s = await getJson('/api/session');
  await fetch('/api/logout', { method: 'POST', headers: { 'x-csrf-token': s.csrfToken }, credentials: 'same-origin' });
  location.replace('/login');
});

refresh();
setInterval(refresh, 5000);
