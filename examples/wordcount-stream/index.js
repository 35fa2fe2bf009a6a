// A streaming JS capability, in the AIGES class style as module functions:
// wrapperCreate opens a session, wrapperWrite feeds a chunk, wrapperRead returns what is ready.
const sessions = new Map();
let nextHandle = 0;

export function wrapperInit() {
  return 0;
}

export function wrapperCreate(params, sid) {
  const handle = `wc-${++nextHandle}`;
  sessions.set(handle, { sid, chunks: 0, words: 0, ready: [] });
  return { handle, error_code: 0 };
}

export function wrapperWrite(handle, reqData) {
  const session = sessions.get(handle);
  const text = reqData.get('text');
  if (!session || !text) return 10109;
  const chunkWords = text.data.toString('utf8').split(/\s+/).filter(Boolean).length;
  session.chunks += 1;
  session.words += chunkWords;
  // The result of a chunk carries the chunk's own status: 2 on the last one ends the session.
  const status = text.status === 2 ? 2 : session.chunks === 1 ? 0 : 1;
  const counts = { chunk: session.chunks, chunkWords, words: session.words };
  session.ready.push({ key: 'counts', data: JSON.stringify(counts), status });
  return 0;
}

export function wrapperRead(handle) {
  const session = sessions.get(handle);
  if (!session) return { list: [], error_code: 10008 };
  return { list: session.ready.splice(0) };
}

export function wrapperDestroy(handle) {
  sessions.delete(handle);
  return 0;
}

export function wrapperOnceExec(params, reqData) {
  const text = reqData.get('text');
  if (!text) return { list: [], error_code: 10109 };
  const words = text.data.toString('utf8').split(/\s+/).filter(Boolean).length;
  return { list: [{ key: 'counts', data: JSON.stringify({ chunk: 1, chunkWords: words, words }), status: 3 }] };
}

export function wrapperError(code) {
  return code === 10109 ? 'input "text" is missing' : `wordcount error ${code}`;
}
