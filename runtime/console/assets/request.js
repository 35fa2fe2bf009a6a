import { toBase64 } from './base64.js';

/** The app id of the copyable lines and the console's default (the README's and the samples'). */
export const sampleAppId = '123456';

const sampleFile = { image: 'image.jpg', audio: 'audio.wav', video: 'video.mp4' };

/** The `encoding` of an uploaded file: its own type (jpg, png, wav…) when it says one, else the declared one, else its extension. */
export function encodingOf(decl, file) {
  const [kind, sub] = file.type.split('/');
  const type = kind === decl.dataType && sub ? sub : (decl.encoding ?? file.name.split('.').pop() ?? 'raw');
  return type.toLowerCase() === 'jpeg' ? 'jpg' : type.toLowerCase();
}

/** What the client asks each output to be: its declared encoding, raw, and the chosen format. */
export function outputDescriptors(schema, formats = {}) {
  const parameter = {};
  for (const [name, decl] of Object.entries(schema.outputs)) {
    const descriptor = { compress: 'raw', format: formats[name] ?? decl.format ?? 'plain' };
    if (decl.encoding) descriptor.encoding = decl.encoding;
    parameter[name] = descriptor;
  }
  return parameter;
}

/**
 * The ASF JSON request of one form: inputs as {bytes, encoding}, params already typed, a format per
 * output. Inputs left out of `inputs` are left out of the request, so the API says what is missing.
 */
export function asfRequest(cap, { appId, inputs = {}, params = {}, formats = {} }) {
  const { schema, serviceId } = cap;
  const payload = {};
  for (const [name, { bytes, encoding }] of Object.entries(inputs)) {
    payload[name] = { encoding, status: 3, [schema.inputs[name].dataType]: toBase64(bytes) };
  }
  return {
    header: { app_id: appId, status: 3 },
    parameter: { [serviceId]: { ...params, ...outputDescriptors(schema, formats) } },
    payload,
  };
}

/** A curl line that works as pasted: each input from a file named after its data type (text: "hello"). */
export function curlLine(origin, cap) {
  const { schema, serviceId } = cap;
  const payload = {};
  for (const [name, decl] of Object.entries(schema.inputs)) {
    const encoding = decl.encoding ?? (decl.dataType === 'text' ? 'utf8' : (sampleFile[decl.dataType] ?? 'input.bin').split('.').pop());
    payload[name] = { encoding, status: 3, [decl.dataType]: `@@${name}@@` };
  }
  const body = { header: { app_id: sampleAppId, status: 3 }, parameter: { [serviceId]: outputDescriptors(schema) }, payload };
  let json = JSON.stringify(body);
  for (const [name, decl] of Object.entries(schema.inputs)) {
    const bytes = decl.dataType === 'text' ? 'printf %s hello | base64 -w0' : `base64 -w0 ${sampleFile[decl.dataType] ?? 'input.bin'}`;
    json = json.replace(`"@@${name}@@"`, `"'"$(${bytes})"'"`);
  }
  return `curl -s ${origin}${cap.route} -H 'content-type: application/json' -d '${json}'`;
}

/** The same call with the CLI. */
export function asfCallLine(origin, cap) {
  const inputs = Object.entries(cap.schema.inputs);
  const files = inputs.filter(([, decl]) => decl.dataType !== 'text');
  const args = inputs.map(([name, decl]) => `-i ${name}=${decl.dataType === 'text' ? 'hello' : `@${sampleFile[decl.dataType] ?? 'input.bin'}`}`);
  if (files.length) args.push(`--data-type ${files[0][1].dataType}`);
  for (const [name, decl] of Object.entries(cap.schema.outputs)) args.push(`-o ${name}${decl.format ? `:${decl.format}` : ''}`);
  return `asf call ${origin}${cap.route} ${args.join(' ')} --decode`;
}
