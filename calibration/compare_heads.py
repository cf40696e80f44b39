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
- v2_same (the Fashion-MNIST MobileNet V2 with TensorFlow's "same" padding computed at run time), and
  with `fashion` every Fashion-MNIST classifier of the test fixtures: top-1 agreement;
- ssdlite (torchvision's SSDLite320 on MobileNet V3-Large ×0.5, trained on Fashion-MNIST scenes by
  train_detector.py; its raw outputs, box offsets and class logits per anchor): boxes decoded against
  torchvision's anchors, softmax scores, per-class NMS at 0.55 as torchvision's SSD does; mAP@0.5
  against the scenes' true boxes (scores above 0.01), and at a deployment threshold of 0.3 the
  agreement (F1 of float detections matched by same-class int8 ones at IoU ≥ 0.5) and box IoU
  (each float detection's best same-class int8 IoU, averaged). SQNR is over both outputs.

Images: for the text detector, the text-bearing photos (EVAL_TEXT) to evaluate and the other photos
to calibrate on; for the segmenter and SSDLite, their 32 test scenes and 64 calibration scenes; for
the classifiers, the first 500 test and 200 training images.

    python3 calibration/compare_heads.py [--tool .build/release/cnn-quantize] [MODEL ... | fashion]

Needs: calibration/fetch-images.sh, export_models.py ppocr_det, train_segmenter.py,
train_detector.py; pip install onnxruntime onnx numpy scipy torch; pip install --no-deps torchvision.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import onnx
import onnx.version_converter
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from scipy import ndimage

from cnnq_run import run

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "images", "photos")
EVAL_TEXT = ["imageTextN.png", "imageTextR.png", "licenseplate_motion.jpg", "text_defocus.jpg", "text_motion.jpg",
             "sudoku.png", "digits.png", "page.png", "text.png", "cards.png"]
SEGMENTATION = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "segmentation")
FASHION = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "fashion-mnist")
DETECTION = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "detection")
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
    "ssdlite": {
        "onnx": os.path.join(DETECTION, "ssdlite320_mobilenet_v3_large_0.5.onnx"),
        "options": ["--preset", "unit", "--mean", "0.5", "--std", "0.5"],
        "eval": lambda work: sorted(glob.glob(os.path.join(DETECTION, "test", "*.png"))),
        "calibration": lambda work: sorted(glob.glob(os.path.join(DETECTION, "calibration", "*.png"))),
        "metric": "detection",
    },
}


def fashion_classifier(path):
    """A Fashion-MNIST classifier of the test fixtures: the first 500 test images, 200 training ones."""
    return {
        "onnx": path,
        "options": ["--preset", "fashion-mnist"],
        "eval": lambda work: fashion_mnist("t10k-images-idx3-ubyte.gz", 500, work),
        "calibration": lambda work: fashion_mnist("train-images-idx3-ubyte.gz", 200, work),
        "metric": "top1",
    }


MODELS["v2_same"] = fashion_classifier(os.path.join(FASHION, "mobilenet_v2_same_0.5_32.onnx"))
# `fashion` on the command line: every Fashion-MNIST classifier of the fixtures, named by its file.
FASHION_MODELS = {os.path.basename(p)[:-5]: fashion_classifier(p) for p in sorted(glob.glob(os.path.join(FASHION, "*.onnx")))}


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


class Reader(CalibrationDataReader):
    def __init__(self, name, inputs):
        self.name, self.inputs = name, iter(inputs)

    def get_next(self):
        x = next(self.inputs, None)
        return None if x is None else {self.name: x}


def task_metric(kind, reference, result):
    """reference and result: the float outputs of one image (NCHW, [N, L, K] or [N, classes])."""
    if kind == "detection":
        a, b = detections(reference, 0.3), detections(result, 0.3)
        ious = [max((box_iou(p[0], q[0]) for q in b if q[1] == p[1]), default=0.0) for p in a]
        matched = sum(iou >= 0.5 for iou in ious)
        return {"agreement": 2 * matched / (len(a) + len(b)) if a or b else 1.0,
                "box IoU": float(np.mean(ious)) if ious else math.nan}
    reference, result = reference[0], result[0]
    if kind in ("classes", "top1"):
        return {"agreement": float(np.mean(reference.argmax(1) == result.argmax(1)))}
    a, b = reference[0, 0] > 0.3, result[0, 0] > 0.3
    boxes = lambda mask: [s for s in ndimage.find_objects(ndimage.label(mask)[0])
                          if (s[0].stop - s[0].start) * (s[1].stop - s[1].start) >= 16]
    corners = lambda s: [s[1].start, s[0].start, s[1].stop, s[0].stop]
    found = [corners(q) for q in boxes(b)]
    ious = [max((box_iou(corners(p), q) for q in found), default=0.0) for p in boxes(a)]
    return {"agreement": float(np.mean(a == b)), "box IoU": float(np.mean(ious)) if ious else math.nan}


ANCHORS = None


def detections(outputs, threshold):
    """SSDLite's post-processing of one image's raw outputs (box offsets [1, L, 4], logits [1, L, K]):
    [(box x0 y0 x1 y1, class, score)] after per-class NMS at 0.55, as torchvision's SSD does it."""
    global ANCHORS
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import torch
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
    offsets, logits = (torch.from_numpy(np.asarray(o, np.float32)).reshape(-1, o.shape[-1]) for o in outputs)
    if ANCHORS is None:
        # SSDLite320's six feature maps: 20, 10, 5, 3, 2 and 1 places a side, 6 anchors each.
        grid = DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95)._grid_default_boxes(
            [[20, 20], [10, 10], [5, 5], [3, 3], [2, 2], [1, 1]], [320, 320]) * 320
        ANCHORS = torch.cat([grid[:, :2] - grid[:, 2:] / 2, grid[:, :2] + grid[:, 2:] / 2], 1)
    assert len(ANCHORS) == len(offsets), f"{len(offsets)} anchors in the outputs, {len(ANCHORS)} in SSDLite320"
    boxes = det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0)).decode_single(offsets, ANCHORS).clamp(0, 320)
    scores = torch.softmax(logits, -1)
    kept = []
    for label in range(1, scores.shape[1]):
        # The 300 best above the threshold, then greedy NMS (torchvision's batched_nms needs its C++
        # ops, which a torchvision built for another torch lacks).
        ranked = [int(i) for i in torch.argsort(scores[:, label], descending=True)[:300]
                  if scores[i, label] > threshold]
        chosen = []
        for i in ranked:
            box = boxes[i].tolist()
            if all(box_iou(box, k[0]) <= 0.55 for k in chosen):
                chosen.append((box, label, float(scores[i, label])))
        kept += chosen
    return sorted(kept, key=lambda k: -k[2])[:300]


def box_iou(p, q):
    w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
    h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])
    return w * h / (area(p) + area(q) - w * h)


def mean_average_precision(results, images):
    """mAP at IoU 0.5 against the scenes' true boxes (test/boxes.json), all-point interpolated."""
    with open(os.path.join(DETECTION, "test", "boxes.json")) as f:
        truth = json.load(f)
    found = [detections(r, 0.01) for r in results]
    precisions = []
    for label in range(1, 11):
        true = {i: [b[:4] for b in truth[os.path.basename(image)] if b[4] == label] for i, image in enumerate(images)}
        total = sum(len(t) for t in true.values())
        if total == 0:
            continue
        ranked = sorted(((d[2], i, d[0]) for i, ds in enumerate(found) for d in ds if d[1] == label), reverse=True)
        used, hits = {i: [False] * len(t) for i, t in true.items()}, []
        for _, i, box in ranked:
            ious = [box_iou(box, t) for t in true[i]]
            best = int(np.argmax(ious)) if ious else -1
            hit = best >= 0 and ious[best] >= 0.5 and not used[i][best]
            if hit:
                used[i][best] = True
            hits.append(hit)
        tp = np.cumsum(hits)
        recall, precision = tp / total, tp / np.arange(1, len(hits) + 1)
        envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(hits) else np.array([])
        steps = np.diff(np.concatenate([[0.0], recall]))
        precisions.append(float(np.sum(steps * envelope)))
    return float(np.mean(precisions))


def evaluate(kind, references, results, images):
    signal = sum(float(np.sum(o ** 2)) for r in references for o in r)
    noise = sum(float(np.sum((a - b) ** 2)) for r, q in zip(references, results) for a, b in zip(r, q))
    metrics = [task_metric(kind, r, q) for r, q in zip(references, results)]
    summary = {"output SQNR": 10 * math.log10(signal / noise) if noise else math.inf}
    for key in metrics[0]:
        summary[key] = float(np.nanmean([m[key] for m in metrics]))
    if kind == "detection":
        summary["mAP@0.5"] = mean_average_precision(results, images)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(MODELS),
                        help=f"of {', '.join(MODELS)}, or `fashion` for every Fashion-MNIST classifier")
    parser.add_argument("--tool", default=".build/release/cnn-quantize")
    parser.add_argument("--methods", default="MinMax,Percentile,Entropy", help="quantize_static calibration methods")
    parser.add_argument("--histogram-images", type=int, default=24,
                        help="calibration images for ORT's Percentile and Entropy, which hold every activation of "
                             "every image in memory (85 detector inputs at 480×640 took more than 24 GiB)")
    args = parser.parse_args()
    ort.set_default_logger_severity(3)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        names = [n for m in args.models for n in (FASHION_MODELS if m == "fashion" else [m])]
        for name in names:
            spec = MODELS.get(name) or FASHION_MODELS[name]
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
            references = [[o.astype(np.float64) for o in float_session.run(None, {input_name: x})] for x in inputs]
            shapes = [o.shape for o in references[0]]
            if name == "ssdlite":
                rows.append((name, "float", evaluate(spec["metric"], references, references, evaluation)))
            # cnnq writes 4-D outputs NHWC.
            results = [[y.reshape(s[0], s[2], s[3], s[1]).transpose(0, 3, 1, 2) if len(s) == 4 else y.reshape(s)
                        for y, s in zip(ys, shapes)] for ys in outputs]
            rows.append((name, "cnnq (auto)", evaluate(spec["metric"], references, results, evaluation)))
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
                    results = [[o.astype(np.float64) for o in session.run(None, {input_name: x})] for x in inputs]
                    rows.append((name, label, evaluate(spec["metric"], references, results, evaluation)))
                    print(f"{name}: {label} {rows[-1][2]}", file=sys.stderr, flush=True)
    print("| model | quantizer | output SQNR | agreement | box IoU | mAP@0.5 |")
    print("|---|---|---|---|---|---|")
    for name, label, m in rows:
        if "failed" in m:
            print(f"| {name} | {label} | failed ({m['failed'][:60]}) | | | |")
            continue
        box = f"{m['box IoU']:.3f}" if "box IoU" in m else "—"
        average = f"{m['mAP@0.5']:.3f}" if "mAP@0.5" in m else "—"
        print(f"| {name} | {label} | {m['output SQNR']:.1f} dB | {100 * m['agreement']:.2f}% | {box} | {average} |")


if __name__ == "__main__":
    main()
