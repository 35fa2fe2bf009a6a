import { base64ToText } from './base64.js';

const dataFields = ['text', 'image', 'audio', 'video', 'other'];

/**
 * Each output of an answer, decoded: JSON the gateway embedded as is, text from base64 (parsed when
 * its format is json), other bytes as they came (base64).
 */
export function decodeOutputs(body) {
  return Object.entries(body?.payload ?? {}).map(([name, item]) => {
    const field = dataFields.find((f) => f in item) ?? 'other';
    const data = item[field];
    if (typeof data !== 'string') return { name, field, item, kind: 'json', value: data };
    if (field !== 'text') return { name, field, item, kind: 'bytes', value: data };
    const text = base64ToText(data);
    if (item.format === 'json') {
      try {
        return { name, field, item, kind: 'json', value: JSON.parse(text) };
      } catch {
        // said json, is not: shown as the text it is
      }
    }
    return { name, field, item, kind: 'text', value: text };
  });
}
