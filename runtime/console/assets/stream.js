import { h } from './dom.js';
import { toBase64 } from './base64.js';
import { decodeOutputs } from './decode.js';
import { appIdField } from './app-id.js';
import { outputDescriptors } from './request.js';

/** Pieces of at most `size` characters, cut after whitespace where there is some, so words stay whole. */
export function cutText(text, size) {
  const chunks = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + size, text.length);
    if (end < text.length) {
      const space = Math.max(text.lastIndexOf(' ', end - 1), text.lastIndexOf('\n', end - 1));
      if (space >= start) end = space + 1;
    }
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * The session's frames: status 0 (first, with the parameters), 1, …, 2 (last), each carrying one
 * chunk of the input. A single chunk still gets a first frame before it: the first opens the session.
 */
export function sessionFrames(cap, input, chunks, appId) {
  const total = Math.max(2, chunks.length);
  const offset = total - chunks.length;
  return Array.from({ length: total }, (_, i) => {
    const status = i === 0 ? 0 : i === total - 1 ? 2 : 1;
    const chunk = chunks[i - offset];
    const frame = { header: { app_id: appId, status } };
    if (i === 0) frame.parameter = { [cap.serviceId]: outputDescriptors(cap.schema) };
    if (chunk !== undefined) frame.payload = { [input]: { encoding: 'utf8', status, seq: i - offset, text: toBase64(new TextEncoder().encode(chunk)) } };
    return frame;
  });
}

function resultLine(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return h('li', { class: 'error' }, text);
  }
  const { code, message, status } = body.header ?? {};
  const outputs = code ? [] : decodeOutputs(body).map((o) => `${o.name}: ${typeof o.value === 'string' ? o.value : JSON.stringify(o.value)}`);
  return h('li', { class: code ? 'error' : 'ok', 'data-status': status ?? '', 'data-code': code ?? '' }, `status ${status ?? '—'} · code ${code ?? '—'}${code ? ` · ${message}` : ''}`, outputs.map((o) => h('code', {}, o)));
}

/**
 * Streaming: a text file sent in chunks over a WebSocket session on the capability's route, each
 * answer frame listed as it arrives. Shown for capabilities with a text input; one that serves
 * one-shot requests only says so in its error frame.
 */
export function streamPanel(cap) {
  const input = Object.entries(cap.schema.inputs).find(([, decl]) => decl.dataType === 'text')?.[0];
  if (!input) return null;
  const id = `${cap.serviceId}-stream`;
  const file = h('input', { id: `${id}-file`, type: 'file', accept: 'text/*' });
  const size = h('input', { id: `${id}-chunk`, type: 'number', min: 1, value: 64 });
  const results = h('ol', { class: 'frames', 'aria-live': 'polite' });
  const state = h('p', { class: 'stream-state' });
  const start = h('button', { type: 'submit' }, 'Stream');
  const run = async (event) => {
    event.preventDefault();
    if (!file.files[0]) {
      state.textContent = 'choose a text file first';
      return;
    }
    const chunks = cutText(await file.files[0].text(), Math.max(1, Number(size.value) || 64));
    const frames = sessionFrames(cap, input, chunks, appIdField());
    results.replaceChildren();
    delete state.dataset.closed;
    start.disabled = true;
    state.textContent = `sending ${frames.length} frames…`;
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${cap.route}`);
    socket.onopen = () => frames.forEach((frame) => socket.send(JSON.stringify(frame)));
    socket.onmessage = (message) => results.append(resultLine(message.data));
    socket.onerror = () => (state.textContent = 'the WebSocket failed');
    socket.onclose = (close) => {
      state.textContent = `session closed (${close.code}${close.reason ? ` ${close.reason}` : ''}) after ${results.children.length} answers`;
      state.dataset.closed = 'true';
      start.disabled = false;
    };
  };
  return h(
    'div',
    { class: 'stream' },
    h('h3', {}, 'Stream (WebSocket session)'),
    h(
      'form',
      { onsubmit: run, novalidate: true },
      h('div', { class: 'field' }, h('label', { for: file.id }, `${input} (a text file)`), file),
      h('div', { class: 'field' }, h('label', { for: size.id }, 'characters per frame'), size),
      start,
    ),
    state,
    results,
  );
}
