// {{name}}: a JS capability. The loader calls these exports as it would an AIGES wrapper's.

export function wrapperInit(config) {
  return 0;
}

export function wrapperOnceExec(params, reqData) {
  const text = reqData.get('text');
  if (!text) return { list: [], error_code: 10109 };
  const answer = params.mode === 'upper' ? text.data.toString('utf8').toUpperCase() : text.data.toString('utf8');
  return { list: [{ key: 'result', data: Buffer.from(answer, 'utf8'), status: 3 }] };
}

export function wrapperError(code) {
  return code === 10109 ? "{{name}} needs an input named 'text'" : `{{name}} error ${code}`;
}

export function wrapperFini() {
  return 0;
}
