import { copyable, h } from './dom.js';
import { asfCallLine, curlLine } from './request.js';
import { streamPanel } from './stream.js';
import { tryForm } from './try-form.js';

/** Whether the capability can answer now, and with how much room: replicas, free licences, queue. */
export function readiness(cap) {
  const parts = [
    `${cap.replicas.ready}/${cap.replicas.total} replicas ready`,
    cap.licences.total ? `${cap.licences.idle}/${cap.licences.total} licences free` : null,
    cap.queue ? `queue ${cap.queue.waiting}/${cap.queue.depth}` : null,
  ].filter(Boolean);
  return h(
    'div',
    { class: 'readiness' },
    h('span', { class: `badge ${cap.ready ? 'ready' : 'not-ready'}` }, cap.ready ? 'ready' : 'not ready'),
    ` ${parts.join(' · ')}`,
    cap.why ? h('p', { class: 'why' }, cap.why) : null,
  );
}

function table(caption, head, rows) {
  if (!rows.length) return null;
  return h(
    'table',
    { class: 'schema' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((c) => h('td', {}, c ?? ''))))),
  );
}

/** Inputs, params and outputs as the gateway validates them. */
function schemaTables({ inputs, params, outputs }) {
  const allowed = (f) =>
    Array.isArray(f.enum) ? f.enum.join(' | ') : [f.minimum !== undefined ? `≥ ${f.minimum}` : null, f.maximum !== undefined ? `≤ ${f.maximum}` : null, f.maxLength ? `≤ ${f.maxLength} chars` : null].filter(Boolean).join(', ');
  return h(
    'div',
    { class: 'tables' },
    table('Inputs', ['name', 'data type', 'encoding', 'required'], Object.entries(inputs).map(([n, d]) => [n, d.dataType, d.encoding, d.required === false ? 'no' : 'yes'])),
    table('Params', ['name', 'type', 'allowed', 'description'], Object.entries(params).map(([n, f]) => [n, String(f.type ?? ''), allowed(f), f.description])),
    table('Outputs', ['name', 'data type', 'format'], Object.entries(outputs).map(([n, d]) => [n, d.dataType, d.format])),
  );
}

/** One capability: readiness, schema, how to call it, a form to try it, and a streaming panel for text. */
export function capabilityCard(cap, origin) {
  return h(
    'section',
    { class: 'capability', id: `capability-${cap.serviceId}`, 'data-service': cap.serviceId },
    h('header', {}, h('h2', {}, cap.serviceId), h('code', {}, `POST ${cap.route}`)),
    readiness(cap),
    cap.schema ? [schemaTables(cap.schema), copyable('curl', curlLine(origin, cap)), copyable('asf', asfCallLine(origin, cap)), tryForm(cap), streamPanel(cap)] : null,
  );
}
