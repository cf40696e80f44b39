#!/usr/bin/env python3
"""Cuts labelled text strips for PaddleOCR's text-direction classifier out of real scanned pages.

Each text line of a page (rows whose ink stands out of the page's background) is cut into pieces at
most four line-heights wide, the classifier's 48×192 aspect. Every piece is written twice: upright,
label 0 (0°), and turned half a turn, label 1 (180°), the label last in the file name as `cnn-quantize
eval` reads it (`page_l03_p1_180deg_1.png`). Even lines go to `calibration/`, odd lines to `test/`,
so that the evaluation never sees a line the ranges were taken from.

Pages: scikit-image's `page.png` (a photographed book page, BSD-3) and OpenCV's `imageTextN.png` (a
scanned book page, Apache-2.0), both fetched by fetch-images.sh.

Usage: make_text_strips.py [IMAGES] [OUT]   (defaults: calibration/images, calibration/text-strips)
Needs numpy and Pillow.
"""
import os
import sys

import numpy as np
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
PAGES = ["photos/skimage/page.png", "photos/opencv/imageTextN.png"]


def ink(page):
    """Pixels darker by a fifth than the paper around them (a photographed page is lit unevenly): the
    paper's level is the page with its strokes removed (a maximum filter) and blurred."""
    grey = page.convert("L")
    paper = grey.filter(ImageFilter.MaxFilter(9)).filter(ImageFilter.GaussianBlur(8))
    return np.asarray(grey, dtype=np.float32) < 0.8 * np.asarray(paper, dtype=np.float32)


def runs(mask, shortest):
    """(start, end) of each run of True at least `shortest` long."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= shortest]


def strips(page):
    dark = ink(page)
    profile = dark.mean(axis=1)
    rows = profile > 0.25 * profile.max()
    # A run of rows is a line's x-height band; ascenders, descenders and some paper around them
    # take three quarters of it again above and below.
    for number, (top, bottom) in enumerate(runs(rows, shortest=4)):
        margin = (3 * (bottom - top) + 3) // 4
        top, bottom = max(0, top - margin), min(dark.shape[0], bottom + margin)
        columns = np.flatnonzero(dark[top:bottom].any(axis=0))
        if columns.size == 0:
            continue
        left, right = columns[0], columns[-1] + 1
        width = 4 * (bottom - top)
        for piece, start in enumerate(range(left, right, width)):
            end = min(start + width, right)
            if end - start >= 2 * (bottom - top):  # a stub of a word or two says little about direction
                yield number, piece, page.crop((start, top, end, bottom)).convert("RGB")


def main():
    images = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "images")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "text-strips")
    for split in ("calibration", "test"):
        os.makedirs(os.path.join(out, split), exist_ok=True)
    count = 0
    for name in PAGES:
        stem = os.path.splitext(os.path.basename(name))[0]
        for line, piece, strip in strips(Image.open(os.path.join(images, name))):
            folder = os.path.join(out, "test" if line % 2 else "calibration")
            strip.save(os.path.join(folder, f"{stem}_l{line:02d}_p{piece}_0deg_0.png"))
            strip.rotate(180).save(os.path.join(folder, f"{stem}_l{line:02d}_p{piece}_180deg_1.png"))
            count += 2
    print(f"{count} text strips in {out}")


if __name__ == "__main__":
    main()
