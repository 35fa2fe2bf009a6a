/**
 * Detections anywhere in a decoded output: objects with a `box` that is a polygon
 * [x1,y1,…,x4,y4] (the OCR demo, with text and scores) or corners [x1,y1,x2,y2] (the detection
 * demo, with label and score). Each as points plus what to write beside it.
 */
export function findBoxes(value) {
  const found = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const points = toPoints(v.box);
      if (points) found.push({ points, caption: String(v.text ?? v.label ?? ''), score: v.score ?? v.text_score ?? v.box_score, labelled: 'label' in v });
      else Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return found;
}

function toPoints(box) {
  if (!Array.isArray(box) || !box.every((n) => typeof n === 'number')) return undefined;
  if (box.length === 4) {
    const [x1, y1, x2, y2] = box;
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];
  }
  if (box.length >= 6 && box.length % 2 === 0) return Array.from({ length: box.length / 2 }, (_, i) => [box[2 * i], box[2 * i + 1]]);
  return undefined;
}

const palette = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#008080', '#f032e6', '#9a6324'];

/** One colour per label (detections), or per box when boxes carry text rather than a label. */
export function colourOf(box, index, labelled) {
  if (!labelled) return palette[index % palette.length];
  let hash = 0;
  for (const c of box.caption) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return palette[hash % palette.length];
}

/** Draws the image and its boxes, each with caption and score; `highlight` is filled. */
export function drawBoxes(canvas, image, boxes, highlight = -1) {
  const labelled = boxes.some((b) => b.labelled);
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const size = Math.max(12, Math.round(image.naturalWidth / 45));
  ctx.font = `${size}px sans-serif`;
  ctx.textBaseline = 'top';
  boxes.forEach((box, i) => {
    const colour = colourOf(box, i, labelled);
    ctx.beginPath();
    box.points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    if (i === highlight) {
      ctx.globalAlpha = 0.3;
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.globalAlpha = 1;
    }
    ctx.lineWidth = i === highlight ? 5 : 3;
    ctx.strokeStyle = colour;
    ctx.stroke();
    const caption = `${box.caption}${typeof box.score === 'number' ? ` ${box.score.toFixed(2)}` : ''}`.trim();
    if (!caption) return;
    const [x, y] = box.points[0];
    const width = ctx.measureText(caption).width + 8;
    const top = y - size - 6 >= 0 ? y - size - 6 : y;
    ctx.fillStyle = colour;
    ctx.fillRect(x, top, width, size + 6);
    ctx.fillStyle = '#fff';
    ctx.fillText(caption, x + 4, top + 3);
  });
}
