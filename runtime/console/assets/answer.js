import { h } from './dom.js';
import { findBoxes } from './boxes.js';
import { decodeOutputs } from './decode.js';
import { picture } from './picture.js';

/**
 * One answer as a person reads it: HTTP status, ASF code and message, latency; each output decoded
 * (boxes drawn over the uploaded image); the raw JSON as it came.
 */
export async function answerView({ status, text, ms }, imageUrl) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const header = body?.header ?? {};
  const ok = status === 200 && header.code === 0;
  const summary = h(
    'p',
    { class: 'summary' },
    h('span', { class: 'http' }, `HTTP ${status}`),
    ' · code ',
    h('span', { class: 'code' }, String(header.code ?? '—')),
    ' · ',
    h('span', { class: 'message' }, header.message ?? (body ? '' : 'the answer is not JSON')),
    ` · ${Math.round(ms)} ms`,
    header.sid ? h('span', { class: 'sid' }, ` · sid ${header.sid}`) : null,
  );
  const outputs = ok ? await Promise.all(decodeOutputs(body).map((output) => outputView(output, imageUrl))) : [];
  return h(
    'div',
    { class: `answer ${ok ? 'ok' : 'error'}`, 'data-status': status, 'data-code': header.code ?? '' },
    summary,
    outputs,
    h('details', { class: 'raw' }, h('summary', {}, 'raw JSON'), h('pre', {}, body ? JSON.stringify(body, null, 2) : text)),
  );
}

async function outputView(output, imageUrl) {
  const title = h('h4', {}, `${output.name} (${output.field}${output.item.format ? `, ${output.item.format}` : ''})`);
  return h('div', { class: 'output', 'data-output': output.name }, title, await outputContent(output, imageUrl));
}

/** Boxes over the image, JSON, text, a picture, or a byte count, as the output is. */
async function outputContent(output, imageUrl) {
  if (output.kind === 'json') {
    const boxes = findBoxes(output.value);
    if (boxes.length && imageUrl) return picture(imageUrl, boxes);
    return h('pre', {}, JSON.stringify(output.value, null, 2));
  }
  if (output.kind === 'text') return h('pre', { class: 'text' }, output.value);
  if (output.field === 'image') {
    const bytes = Uint8Array.from(atob(output.value), (c) => c.charCodeAt(0));
    return h('img', { src: URL.createObjectURL(new Blob([bytes], { type: `image/${output.item.encoding ?? 'png'}` })), alt: output.name });
  }
  return h('p', {}, `${Math.floor((output.value.length * 3) / 4)} bytes (base64 in the raw JSON)`);
}
