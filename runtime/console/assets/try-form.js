import { h } from './dom.js';
import { answerView } from './answer.js';
import { appIdField } from './app-id.js';
import { asfRequest, encodingOf } from './request.js';

const formats = ['json', 'plain'];

/**
 * "Try it": a form generated from the capability's schema (a text box or a file per input, a
 * field or a choice per parameter, a format per output) that sends the real ASF request and shows
 * the answer under it. Nothing is checked here (novalidate, no maxlength): what is wrong, the API says.
 */
export function tryForm(cap) {
  const { schema, serviceId } = cap;
  const fields = [];
  const readers = [];
  for (const [name, decl] of Object.entries(schema.inputs)) {
    const id = `${serviceId}-input-${name}`;
    const text = decl.dataType === 'text';
    const control = text ? h('textarea', { id, rows: 3 }) : h('input', { id, type: 'file', accept: `${decl.dataType}/*` });
    fields.push(field(id, `${name} (${decl.dataType}${decl.required === false ? ', optional' : ''})`, control, decl.description));
    readers.push(async (values) => {
      if (text) {
        if (control.value) values.inputs[name] = { bytes: new TextEncoder().encode(control.value), encoding: decl.encoding ?? 'utf8' };
        return undefined;
      }
      const file = control.files[0];
      if (!file) return undefined;
      values.inputs[name] = { bytes: new Uint8Array(await file.arrayBuffer()), encoding: encodingOf(decl, file) };
      return file.type.startsWith('image/') ? URL.createObjectURL(file) : undefined;
    });
  }
  for (const [name, fragment] of Object.entries(schema.params)) {
    const id = `${serviceId}-param-${name}`;
    const { control, read } = paramControl(id, fragment);
    fields.push(field(id, `${name}${fragment.required ? ' (required)' : ''}`, control, fragment.description));
    readers.push(async (values) => {
      const value = read();
      if (value !== undefined) values.params[name] = value;
    });
  }
  for (const [name, decl] of Object.entries(schema.outputs)) {
    const id = `${serviceId}-output-${name}`;
    const choices = [...new Set([decl.format ?? 'plain', ...formats])];
    const control = h('select', { id }, choices.map((f) => h('option', { value: f }, f)));
    fields.push(field(id, `output ${name}: format`, control));
    readers.push(async (values) => {
      values.formats[name] = control.value;
    });
  }

  const answer = h('div', { class: 'answer-slot', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit' }, `Send to ${cap.route}`);
  const submit = async (event) => {
    event.preventDefault();
    send.disabled = true;
    answer.replaceChildren(h('p', { class: 'pending' }, 'sending…'));
    try {
      const values = { appId: appIdField(), inputs: {}, params: {}, formats: {} };
      let imageUrl;
      for (const read of readers) imageUrl = (await read(values)) ?? imageUrl;
      const body = JSON.stringify(asfRequest(cap, values));
      const started = performance.now();
      const res = await fetch(cap.route, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      answer.replaceChildren(await answerView({ status: res.status, text, ms: performance.now() - started }, imageUrl));
    } catch (err) {
      answer.replaceChildren(h('p', { class: 'answer error' }, `request failed: ${err.message}`));
    } finally {
      send.disabled = false;
    }
  };
  return h('div', { class: 'try' }, h('h3', {}, 'Try it'), h('form', { onsubmit: submit, novalidate: true }, fields, send), answer);
}

function field(id, label, control, description) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, description ? h('small', {}, description) : null);
}

/** The control for one parameter's JSON-schema fragment, and how to read its value (undefined: not sent). */
function paramControl(id, fragment) {
  const choices = Array.isArray(fragment.enum) ? fragment.enum : fragment.type === 'boolean' ? [true, false] : undefined;
  if (choices) {
    const control = h('select', { id }, h('option', { value: '' }, '(not sent)'), choices.map((v, i) => h('option', { value: String(i), selected: v === fragment.default }, String(v))));
    return { control, read: () => (control.value === '' ? undefined : choices[Number(control.value)]) };
  }
  const numeric = fragment.type === 'number' || fragment.type === 'integer';
  const control = h('input', {
    id,
    type: numeric ? 'number' : 'text',
    min: fragment.minimum,
    max: fragment.maximum,
    step: numeric ? (fragment.type === 'integer' ? 1 : 'any') : undefined,
    placeholder: fragment.default ?? '',
  });
  return { control, read: () => (control.value === '' ? undefined : numeric ? Number(control.value) : control.value) };
}
