// A JS capability: the same functions as an AIGES Python wrapper, as module exports.
export function wrapperInit(config) {
  return 0;
}

export function wrapperOnceExec(params, reqData) {
  const text = reqData.get('text');
  if (!text) return { list: [], error_code: 10109 };
  const data = params.mode === 'upper' ? Buffer.from(text.data.toString('utf8').toUpperCase()) : text.data;
  return { list: [{ key: 'result', data, status: 3 }] };
}

export function wrapperError(code) {
  return code === 10109 ? 'input "text" is missing' : `echo error ${code}`;
}

export function wrapperFini() {
  return 0;
}
