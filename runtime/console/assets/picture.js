import { h } from './dom.js';
import { drawBoxes } from './boxes.js';

/**
 * The uploaded image with the answer's boxes drawn over it, and a row per box (caption, score,
 * coordinates); hovering a row highlights its box.
 */
export async function picture(imageUrl, boxes) {
  const image = new Image();
  image.src = imageUrl;
  await image.decode();
  const labelled = boxes.some((b) => b.labelled);
  const canvas = h('canvas', { class: 'boxes', 'data-boxes': boxes.length });
  const draw = (highlight) => drawBoxes(canvas, image, boxes, highlight);
  draw(-1);
  const rows = boxes.map((box, i) =>
    h(
      'tr',
      { onmouseenter: () => draw(i), onmouseleave: () => draw(-1) },
      h('td', {}, String(i + 1)),
      h('td', { class: 'caption' }, box.caption),
      h('td', {}, typeof box.score === 'number' ? box.score.toFixed(3) : ''),
      h('td', { class: 'coords' }, box.points.map((p) => p.join(',')).join(' ')),
    ),
  );
  const table = h(
    'table',
    { class: 'rows' },
    h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, labelled ? 'label' : 'text'), h('th', {}, 'score'), h('th', {}, 'box'))),
    h('tbody', {}, rows),
  );
  return h('div', { class: 'picture' }, canvas, table);
}
