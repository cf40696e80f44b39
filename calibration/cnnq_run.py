"""`cnn-quantize run` on one image, as the comparison scripts read it: the float input calibration's
preprocessing makes of the image (--save-input) and every int8 output (--raw, one after another)
dequantized with the scale and zero point `run` prints for each, flat in cnnq's order (NHWC for a
4-D output)."""
import os
import re
import subprocess
import sys

import numpy as np


def run(tool, model, image, work):
    x_path, y_path = os.path.join(work, "x.npy"), os.path.join(work, "y.bin")
    done = subprocess.run([tool, "run", model, image, "--save-input", x_path, "--raw", y_path, "--top", "1"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: cnn-quantize run {image}: {done.stderr.strip()}")
    raw, start, outputs = np.fromfile(y_path, np.int8).astype(np.float64), 0, []
    for count, scale, zero in re.findall(r"': (\d+) (?:scores|values).*?scale ([0-9.e+-]+), zero point (-?\d+)",
                                         done.stdout):
        outputs.append((raw[start:start + int(count)] - int(zero)) * float(scale))
        start += int(count)
    if start != raw.size:
        sys.exit(f"error: cnn-quantize run {image}: {raw.size} output bytes, {start} described")
    return np.load(x_path), outputs
