import { h } from './dom.js';
import { capabilityCard, readiness } from './capability.js';
import { glanceTable } from './glance.js';

const list = document.getElementById('capabilities');
const status = document.getElementById('status');
const glance = document.getElementById('glance');
const refreshMs = 5000;

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered HTTP ${res.status}`);
  return res.json();
}

/**
 * Cards are built once per capability (so a form being filled is never rebuilt); afterwards only
 * their readiness is refreshed. A card shown before its schema was known is replaced once it is.
 */
function show({ version, capabilities }) {
  document.getElementById('version').textContent = `ASF kit ${version}`;
  if (!capabilities.length) {
    list.replaceChildren(h('p', {}, 'No capability is known to this gateway yet.'));
    return;
  }
  list.querySelector(':scope > p')?.remove();
  for (const cap of capabilities) {
    const card = list.querySelector(`[data-service="${CSS.escape(cap.serviceId)}"]`);
    if (!card) list.append(capabilityCard(cap, location.origin));
    else if (cap.schema && !card.querySelector('.try')) card.replaceWith(capabilityCard(cap, location.origin));
    else card.querySelector('.readiness').replaceWith(readiness(cap));
  }
}

async function refresh() {
  try {
    const [capabilities, figures] = await Promise.all([getJson('/console/api/capabilities'), getJson('/console/api/glance')]);
    show(capabilities);
    glance.replaceChildren(glanceTable(figures));
    status.hidden = true;
    document.body.dataset.state = 'ready';
  } catch (err) {
    status.textContent = `could not reach the gateway: ${err.message}`;
    status.hidden = false;
  }
}

await refresh();
setInterval(refresh, refreshMs);
