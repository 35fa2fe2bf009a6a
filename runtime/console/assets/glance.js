import { h } from './dom.js';

/** A bucket bound as Prometheus writes it ('0.25', '+Inf') as a person reads it. */
function bound(le) {
  if (le === null) return '—';
  if (le === '+Inf') return 'past the largest bucket';
  const seconds = Number(le);
  return seconds < 1 ? `≤ ${Math.round(seconds * 1000)} ms` : `≤ ${seconds} s`;
}

function span(seconds) {
  const whole = Math.round(seconds);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** Per capability: requests, req/s, p50/p99 and errors by code over the window the gateway keeps. */
export function glanceTable({ seconds, services }) {
  const rows = Object.entries(services).sort(([a], [b]) => a.localeCompare(b));
  return h(
    'table',
    { class: 'glance' },
    h('caption', {}, `At a glance: the last ${span(seconds)}`),
    h('thead', {}, h('tr', {}, ['capability', 'requests', 'req/s', 'p50', 'p99', 'errors by code'].map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      rows.length
        ? rows.map(([service, row]) =>
            h(
              'tr',
              { 'data-service': service },
              h('td', {}, service),
              h('td', { class: 'requests' }, String(row.requests)),
              h('td', {}, row.perSecond.toFixed(2)),
              h('td', {}, bound(row.p50)),
              h('td', {}, bound(row.p99)),
              h('td', { class: 'errors' }, Object.entries(row.errors).map(([code, n]) => `${code} × ${n}`).join(', ') || 'none'),
            ),
          )
        : h('tr', {}, h('td', { colspan: 6 }, 'no request answered yet')),
    ),
  );
}
