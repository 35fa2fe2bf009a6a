"""Renders an image of printed text lines, for the mmocr demo and its tests.

    python make_sample.py [OUT.jpg] [--line "TEXT"]... [--size W H] [--font-size N]

Without --line it draws the demo's own lines (sample.jpg is made this way).
Needs only Pillow (in the capability's venv). Uses DejaVu Sans where the
Debian package fonts-dejavu-core provides it, else Pillow's built-in font.
"""

import argparse
import os
import sys

from PIL import Image, ImageDraw, ImageFont

DEMO_LINES = ["ASF KIT", "OFFLINE OCR 2026", "AthenaServing demo"]
FONT_PATHS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
]


def load_font(size):
    for path in FONT_PATHS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    # Pillow >= 10.1 bundles a scalable font, so the image can be made without any system font.
    return ImageFont.load_default(size=size)


def render(lines, width=640, height=None, font_size=44, margin=32):
    font = load_font(font_size)
    line_height = int(font_size * 1.8)
    if height is None:
        height = margin * 2 + line_height * len(lines)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    # A light frame and a tinted band make it look like a photographed label, not a blank page.
    draw.rectangle([6, 6, width - 7, height - 7], outline=(200, 200, 210), width=2)
    draw.rectangle([12, 12, width - 13, margin + line_height - 16], fill=(235, 240, 250))
    for i, text in enumerate(lines):
        draw.text((margin, margin + i * line_height), text, fill=(20, 20, 30), font=font)
    return image


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample.jpg"))
    parser.add_argument("--line", action="append", dest="lines", help="a text line (repeatable)")
    parser.add_argument("--size", nargs=2, type=int, metavar=("W", "H"), default=None)
    parser.add_argument("--font-size", type=int, default=44)
    args = parser.parse_args(argv)
    width, height = args.size if args.size else (640, None)
    image = render(args.lines or DEMO_LINES, width=width, height=height, font_size=args.font_size)
    image.save(args.out, "JPEG", quality=85, optimize=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
