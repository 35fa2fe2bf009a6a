/**
 * h('tag', {attr: value, onclick: fn}, ...children): one element. Children may be strings, nodes,
 * arrays or null/false (left out), so views read like the markup they make.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/** A preformatted line with a button that copies it (or selects it where the clipboard is closed: plain HTTP off loopback). */
export function copyable(label, text) {
  const line = h('pre', { class: 'copyable' }, text);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'copied';
    } catch {
      getSelection()?.selectAllChildren(line);
    }
  };
  const button = h('button', { type: 'button', onclick: copy }, 'copy');
  return h('div', { class: 'command' }, h('span', { class: 'label' }, label), line, button);
}
