#!/usr/bin/env python3
"""Real detection and segmentation heads quantized by cnnq and by ONNX Runtime's quantize_static
on the same images, each against its float model (issue 22's acceptance table in the README).

For every model: cnnq quantizes it on the calibration photos (`cnn-quantize quantize`, default
recipe); `cnn-quantize run` prepares each image as calibration did (--save-input) and gives cnnq's
int8 output; ONNX Runtime runs the float model on that input, and the QDQ models that
`quantize_static` makes (per-channel weights, after `quant_pre_process`, calibrated on the same
prepared photos) with each calibration method and both activation types. Reported per model: output
SQNR against float over all evaluation images, and the task metric:

- ppocr_det (PP-OCRv4 text detector): the probability map thresholded at 0.3 as its post-processing
  does — pixel agreement of the text masks, and box IoU: each float connected component's bounding
  box (at least 16 pixels) matched to the int8 mask's best-overlapping box, IoU averaged over the
  float boxes (0 for a box with no match);
- lraspp (torchvision's LR-ASPP on MobileNet V3-Large ×0.5, trained on Fashion-MNIST scenes by
  train_segmenter.py): pixel agreement of the per-pixel argmax class;
- v2_same (the Fashion-MNIST MobileNet V2 with TensorFlow's "same" padding computed at run time):
  top-1 agreement.

Images: for the detector, the text-bearing photos (EVAL_TEXT) to evaluate and the other photos to
calibrate on; for the segmenter, its 32 test scenes and 64 calibration scenes; for the classifier,
the first 500 test and 200 training images.

    python3 calibration/compare_heads.py [--tool .build/release/cnn-quantize] [MODEL ...]

Needs: calibration/fetch-images.sh, export_models.py ppocr_det, train_segmenter.py; pip install
onnxruntime onnx numpy scipy.
"""
import argparse
import glob
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "images", "photos")
EVAL_TEXT = ["imageTextN.png", "imageTextR.png", "licenseplate_motion.jpg", "text_defocus.jpg", "text_motion.jpg",
             "sudoku.png", "digits.png", "page.png", "text.png", "cards.png"]
SEGMENTATION = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "segmentation")
FASHION = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "fashion-mnist")
MODELS = {
    "ppocr_det": {
        "onnx": os.path.join(HERE, "models", "ppocr_det_v4.onnx"),
        "options": ["--input-shape", "1,3,480,640", "--preset", "unit", "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5",
                    "--order", "bgr"],
        "eval": lambda work: [p for p in photos() if os.path.basename(p) in EVAL_TEXT],
        "calibration": lambda work: [p for p in photos() if os.path.basename(p) not in EVAL_TEXT],
        "metric": "text",
    },
    "lraspp": {
        "onnx": os.path.join(SEGMENTATION, "lraspp_mobilenet_v3_large_0.5_160.onnx"),
        "options": ["--preset", "fashion-mnist"],
        "eval": lambda work: sorted(glob.glob(os.path.join(SEGMENTATION, "test", "*.png"))),
        "calibration": lambda work: sorted(glob.glob(os.path.join(SEGMENTATION, "calibration", "*.png"))),
        "metric": "classes",
    },
    "v2_same": {
        "onnx": os.path.join(FASHION, "mobilenet_v2_same_0.5_32.onnx"),
        "options": ["--preset", "fashion-mnist"],
        "eval": lambda work: fashion_mnist("t10k-images-idx3-ubyte.gz", 500, work),
        "calibration": lambda work: fashion_mnist("train-images-idx3-ubyte.gz", 200, work),
        "metric": "top1",
    },
}


def fashion_mnist(name, count, work):
    """The first `count` images of a Fashion-MNIST file as PNGs (what `cnn-quantize run` reads)."""
    import gzip
    from PIL import Image
    with gzip.open(os.path.join("/usr/share/datasets/fashion-mnist", name)) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    folder = os.path.join(work, name.split("-")[0])
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"{i:04d}.png") for i in range(count)]
    for path, image in zip(paths, images):
        Image.fromarray(image).save(path)
    return paths


def photos():
    return sorted(p for p in glob.glob(os.path.join(PHOTOS, "**", "*"), recursive=True) if os.path.isfile(p))


def run(tool, model, image, work):
    """cnnq on one image: the prepared float input and the dequantized int8 output (NCHW)."""
    x_path, y_path = os.path.join(work, "x.npy"), os.path.join(work, "y.bin")
    out = subprocess.run([tool, "run", model, image, "--save-input", x_path, "--raw", y_path, "--top", "1"],
                         capture_output=True, text=True, check=True).stdout
    scale, zero = re.search(r"scale ([0-9.e+-]+), zero point (-?\d+)", out).groups()
    return np.load(x_path), (np.fromfile(y_path, np.int8).astype(np.float64) - int(zero)) * float(scale)


class Reader(CalibrationDataReader):
    def __init__(self, name, inputs):
        self.name, self.inputs = name, iter(inputs)

    def get_next(self):
        x = next(self.inputs, None)
        return None if x is None else {self.name: x}


def task_metric(kind, reference, result):
    """reference and result: NCHW (or [N, classes]) float outputs of one image."""
    if kind in ("classes", "top1"):
        return {"agreement": float(np.mean(reference.argmax(1) == result.argmax(1)))}
    a, b = reference[0, 0] > 0.3, result[0, 0] > 0.3
    boxes = lambda mask: [s for s in ndimage.find_objects(ndimage.label(mask)[0])
                          if (s[0].stop - s[0].start) * (s[1].stop - s[1].start) >= 16]
    def iou(p, q):
        h = max(0, min(p[0].stop, q[0].stop) - max(p[0].start, q[0].start))
        w = max(0, min(p[1].stop, q[1].stop) - max(p[1].start, q[1].start))
        area = lambda s: (s[0].stop - s[0].start) * (s[1].stop - s[1].start)
        return h * w / (area(p) + area(q) - h * w)
    found = boxes(b)
    ious = [max((iou(p, q) for q in found), default=0.0) for p in boxes(a)]
    return {"agreement": float(np.mean(a == b)), "box IoU": float(np.mean(ious)) if ious else math.nan}


def evaluate(kind, references, results):
    signal = sum(float(np.sum(r ** 2)) for r in references)
    noise = sum(float(np.sum((r - q) ** 2)) for r, q in zip(references, results))
    metrics = [task_metric(kind, r, q) for r, q in zip(references, results)]
    summary = {"output SQNR": 10 * math.log10(signal / noise) if noise else math.inf}
    for key in metrics[0]:
        summary[key] = float(np.nanmean([m[key] for m in metrics]))
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--tool", default=".build/release/cnn-quantize")
    parser.add_argument("--methods", default="MinMax,Percentile,Entropy", help="quantize_static calibration methods")
    parser.add_argument("--histogram-images", type=int, default=24,
                        help="calibration images for ORT's Percentile and Entropy, which hold every activation of "
                             "every image in memory (85 detector inputs at 480×640 took more than 24 GiB)")
    args = parser.parse_args()
    ort.set_default_logger_severity(3)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            spec = MODELS[name]
            onnx_path, evaluation = spec["onnx"], spec["eval"](work)
            calibration = os.path.join(work, name + "-calibration")
            os.makedirs(calibration)
            for p in spec["calibration"](work):
                os.symlink(p, os.path.join(calibration, os.path.basename(p)))
            cnnq = os.path.join(work, name + ".cnnq")
            print(f"{name}: cnnq quantize on {len(os.listdir(calibration))} images", file=sys.stderr, flush=True)
            subprocess.run([args.tool, "quantize", onnx_path, "--calibration", calibration, "--held-out", "0", "-o", cnnq]
                           + spec["options"], check=True, stdout=subprocess.DEVNULL)
            inputs, outputs = [], []
            for image in evaluation:
                x, y = run(args.tool, cnnq, image, work)
                inputs.append(x)
                outputs.append(y)
            calibration_inputs = [run(args.tool, cnnq, p, work)[0] for p in sorted(glob.glob(calibration + "/*"))]
            # A fixed input size, as cnnq quantized it (the detector's is symbolic).
            fixed = os.path.join(work, name + "-fixed.onnx")
            subprocess.run([sys.executable, "-m", "onnxruntime.tools.make_dynamic_shape_fixed", "--input_name",
                            ort.InferenceSession(onnx_path).get_inputs()[0].name, "--input_shape",
                            ",".join(map(str, inputs[0].shape)), onnx_path, fixed], check=True, stdout=subprocess.DEVNULL)
            model = onnx.load(fixed)
            if next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) < 13:
                # quantize_static writes per-channel DequantizeLinear (axis), which needs opset 13.
                onnx.save(onnx.version_converter.convert_version(model, 13), fixed)
            float_session = ort.InferenceSession(fixed, providers=["CPUExecutionProvider"])
            input_name = float_session.get_inputs()[0].name
            references = [float_session.run(None, {input_name: x})[0].astype(np.float64) for x in inputs]
            shape = references[0].shape
            # cnnq writes 4-D outputs NHWC.
            results = [y.reshape(shape[0], shape[2], shape[3], shape[1]).transpose(0, 3, 1, 2) if len(shape) == 4
                       else y.reshape(shape) for y in outputs]
            rows.append((name, "cnnq (auto)", evaluate(spec["metric"], references, results)))
            print(f"{name}: cnnq {rows[-1][2]}", file=sys.stderr, flush=True)
            prepared = os.path.join(work, name + "-pre.onnx")
            quant_pre_process(fixed, prepared, skip_symbolic_shape=True)
            for method in args.methods.split(","):
                for activations in (QuantType.QInt8, QuantType.QUInt8):
                    qdq = os.path.join(work, f"{name}-{method}.onnx")
                    label = f"ORT {method} {'S8S8' if activations == QuantType.QInt8 else 'U8S8'}"
                    used = calibration_inputs
                    if method != "MinMax" and len(used) > args.histogram_images:
                        used = used[::math.ceil(len(used) / args.histogram_images)]
                        label += f" ({len(used)} images)"
                    try:
                        quantize_static(prepared, qdq, Reader(input_name, used),
                                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=activations,
                                        weight_type=QuantType.QInt8, calibrate_method=getattr(CalibrationMethod, method))
                    except Exception as error:  # ORT's calibrators fail on some tensors; report, go on
                        rows.append((name, label, {"failed": f"{type(error).__name__}: {error}"}))
                        print(f"{name}: {label} failed: {error}", file=sys.stderr, flush=True)
                        continue
                    session = ort.InferenceSession(qdq, providers=["CPUExecutionProvider"])
                    results = [session.run(None, {input_name: x})[0].astype(np.float64) for x in inputs]
                    rows.append((name, label, evaluate(spec["metric"], references, results)))
                    print(f"{name}: {label} {rows[-1][2]}", file=sys.stderr, flush=True)
    print("| model | quantizer | output SQNR | agreement | box IoU |")
    print("|---|---|---|---|---|")
    for name, label, m in rows:
        if "failed" in m:
            print(f"| {name} | {label} | failed ({m['failed'][:60]}) | | |")
            continue
        box = f"{m['box IoU']:.3f}" if "box IoU" in m else "—"
        print(f"| {name} | {label} | {m['output SQNR']:.1f} dB | {100 * m['agreement']:.2f}% | {box} |")


if __name__ == "__main__":
    main()
