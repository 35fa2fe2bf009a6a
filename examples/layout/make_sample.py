"""Renders a one-page report (title, paragraphs, a bar chart, a table, captions), for the
layout demo and its tests.

    python make_sample.py [OUT.jpg] [--regions]

Without OUT it writes the capability's sample.jpg and request.json (the ASF request that
sends it: `curl -d @request.json`). With --regions it prints, as JSON, where each region
was drawn ([{label, box: [x1, y1, x2, y2]}, ...]): what the detector is expected to find.
Deterministic: the same Pillow and font give the same bytes. Needs only Pillow (in the
capability's venv); uses DejaVu Sans where fonts-dejavu-core provides it, else Pillow's
built-in font.
"""

import argparse
import base64
import json
import os
import sys

from PIL import Image, ImageDraw, ImageFont

WIDTH, MARGIN = 800, 64
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF"]

TITLE = "Serving Models Offline"
PARAGRAPHS = [
    "An air-gapped cluster cannot reach a model hub, so every weight file travels inside the bundle "
    "with the code that serves it. The gateway checks each request against the capability schema "
    "and hands it to a loader, which runs the wrapper on one of its workers and streams the answer "
    "back to the client without copying the payload twice.",
    "The chart below compares how many pages each worker analysed per second on the reference "
    "machine. The table lists the regions found on this very page, so the sample can check itself.",
]
HEADER = "ASF kit technical notes  \u00b7  No. 7"
CHART_CAPTION = "Figure 1. Pages per second."
TABLE_CAPTION = "Table 1. Regions on this page."
TABLE_ROWS = [
    ["region", "count", "model"],
    ["title", "1", "PicoDet"],
    ["text", "3", "PicoDet"],
    ["figure", "1", "PicoDet"],
    ["table", "1", "PicoDet"],
]
CLOSING = (
    "Every number in this report was measured on a machine with two cores and no accelerator; "
    "larger nodes serve more pages at once by adding workers, one core each."
)


def load_font(size, bold=False):
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    # Pillow >= 10.1 bundles a scalable font, so the page can be made without any system font.
    return ImageFont.load_default(size=size)


def wrap(draw, text, font, width):
    """Greedy line breaking to a pixel width."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    return lines + [line]


class Page:
    """Draws blocks top to bottom and remembers the box of each."""

    def __init__(self):
        # Drawn on a tall sheet, cut to the content's height by finished().
        self.image = Image.new("RGB", (WIDTH, 2 * WIDTH), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.y = MARGIN
        self.regions = []

    def text_block(self, label, text, font, gap_after, centred=False):
        lines = wrap(self.draw, text, font, WIDTH - 2 * MARGIN)
        step = int(font.size * 1.45)
        x1, x2 = WIDTH, 0
        for i, line in enumerate(lines):
            length = self.draw.textlength(line, font=font)
            x = (WIDTH - length) / 2 if centred else MARGIN
            self.draw.text((x, self.y + i * step), line, fill=(25, 25, 35), font=font)
            x1, x2 = min(x1, x), max(x2, x + length)
        self.add(label, x1, self.y, x2, self.y + step * len(lines))
        self.y += step * len(lines) + gap_after

    def bar_chart(self, height, gap_after):
        left, top, right, bottom = MARGIN + 100, self.y, WIDTH - MARGIN - 100, self.y + height
        d = self.draw
        d.line([left, top, left, bottom, right, bottom], fill=(40, 40, 40), width=3)
        for i in range(1, 5):
            y = bottom - i * height // 5
            d.line([left, y, right, y], fill=(215, 215, 215), width=1)
            d.text((left - 40, y - 9), str(i * 2), fill=(60, 60, 60), font=load_font(14))
        values = [2.1, 4.0, 5.6, 7.4]
        colours = [(70, 110, 180), (90, 160, 90), (210, 140, 60), (170, 80, 80)]
        slot = (right - left) // len(values)
        for i, (value, colour) in enumerate(zip(values, colours)):
            x = left + i * slot + slot // 4
            d.rectangle([x, bottom - int(value / 10 * height), x + slot // 2, bottom - 2], fill=colour)
            d.text((x + slot // 4 - 5, bottom + 8), str(i + 1), fill=(60, 60, 60), font=load_font(14))
        self.add("figure", left - 45, top, right, bottom + 30)
        self.y = bottom + 30 + gap_after

    def table(self, rows, gap_after):
        font = load_font(18)
        row_h, col_w = 36, (WIDTH - 2 * MARGIN) // len(rows[0])
        left, top = MARGIN, self.y
        right, bottom = left + col_w * len(rows[0]), top + row_h * len(rows)
        d = self.draw
        d.rectangle([left, top, right, top + row_h], fill=(230, 234, 244))
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                d.text((left + c * col_w + 14, top + r * row_h + 10), cell, fill=(25, 25, 35), font=font)
        for r in range(len(rows) + 1):
            d.line([left, top + r * row_h, right, top + r * row_h], fill=(50, 50, 50), width=2)
        for c in range(len(rows[0]) + 1):
            d.line([left + c * col_w, top, left + c * col_w, bottom], fill=(50, 50, 50), width=2)
        self.add("table", left, top, right, bottom)
        self.y = bottom + gap_after

    def finished(self):
        return self.image.crop((0, 0, WIDTH, self.y + MARGIN))

    def add(self, label, x1, y1, x2, y2):
        self.regions.append({"label": label, "box": [int(x1), int(y1), int(x2), int(y2)]})


def render():
    page = Page()
    body = load_font(19)
    page.text_block("header", HEADER, load_font(15), 40)
    page.text_block("title", TITLE, load_font(36, bold=True), 36, centred=True)
    page.text_block("text", PARAGRAPHS[0], body, 28)
    page.text_block("text", PARAGRAPHS[1], body, 32)
    page.bar_chart(240, 26)
    page.text_block("figure_caption", CHART_CAPTION, load_font(18), 32, centred=True)
    page.text_block("table_caption", TABLE_CAPTION, load_font(18), 10, centred=True)
    page.table(TABLE_ROWS, 32)
    page.text_block("text", CLOSING, body, 0)
    return page


def request(image):
    """The ASF request for one image, as the demo clients send it."""
    return {
        "header": {"app_id": "123456", "status": 3},
        "parameter": {"layout": {"score": 0.5, "boxes": {"encoding": "utf8", "compress": "raw", "format": "json"}}},
        "payload": {"data": {"encoding": "jpg", "status": 3, "image": base64.b64encode(image).decode("ascii")}},
    }


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", help="where to write the image (default: sample.jpg and request.json here)")
    parser.add_argument("--regions", action="store_true", help="print the drawn regions as JSON")
    args = parser.parse_args(argv)
    page = render()
    out = args.out or os.path.join(here, "sample.jpg")
    page.finished().save(out, "JPEG", quality=85, optimize=True)
    if not args.out:
        with open(out, "rb") as f, open(os.path.join(here, "request.json"), "w") as req:
            json.dump(request(f.read()), req, indent=1)
            req.write("\n")
    print(json.dumps(page.regions) if args.regions else out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
