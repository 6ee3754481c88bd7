// Login page: posts the admin password as JSON, then goes back where the owner was heading.
'use strict';

// Only a path on this NAS: "next" comes from the URL, so never follow it to another site.
function nextPath() {
  const n = new URLSearchParams(location.search).get('next');
  return n && n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/\\') ? n : '/';
}

document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = document.getElementById('message');
  msg.hidden = true;
  try {
    const r = await fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: document.getElementById('password').value }),
      credentials: 'same-origin',
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((j.message || 'HTTP ' + r.status) + (j.hint ? ' ' + j.hint : ''));
    location.replace(nextPath());
  } catch (err) {
    msg.textContent = 'Not logged in: ' + err.message;
    msg.hidden = false;
  }
});
