"""ONNX Runtime side of benchmarks/compare-onnxruntime: quantize a float ONNX model with
onnxruntime's quantize_static (QDQ, per-channel int8 weights, the same calibration images cnnq
used) and time the float and int8 models, batch 1, at the given thread counts. Prints one JSON
object: {"fp32": {threads: median_ms}, "int8": {...}}."""
import argparse
import json
import pathlib
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess(path, size):
    """torchvision's recipe, as cnn-quantize's --preset torchvision: shorter side to size·256/224,
    centre crop, ImageNet mean/std, NCHW."""
    image = Image.open(path).convert("RGB")
    short = round(size * 256 / 224)
    w, h = image.size
    scale = short / min(w, h)
    image = image.resize((max(short, round(w * scale)), max(short, round(h * scale))), Image.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    image = image.crop((left, top, left + size, top + size))
    x = (np.asarray(image, dtype=np.float32) / 255 - MEAN) / STD
    return x.transpose(2, 0, 1)[None].copy()


class Images(CalibrationDataReader):
    def __init__(self, paths, name, size):
        self.items = iter([{name: preprocess(p, size)} for p in paths])

    def get_next(self):
        return next(self.items, None)


def median_ms(path, threads, runs, warmup, feed):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    for _ in range(warmup):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=pathlib.Path)
    parser.add_argument("--calibration", type=pathlib.Path, required=True)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
    name, shape = session.get_inputs()[0].name, session.get_inputs()[0].shape
    paths = sorted(p for p in args.calibration.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.samples]
    if not paths:
        raise SystemExit(f"no images in {args.calibration}")
    # ORT's recommended preparation: shape inference and graph optimization (BatchNorm folded) first.
    prepared = args.model.with_suffix(".ort-prepared.onnx")
    quant_pre_process(str(args.model), str(prepared))
    int8 = args.model.with_suffix(".ort-int8.onnx")
    quantize_static(str(prepared), str(int8), Images(paths, name, shape[2]), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    feed = {name: preprocess(paths[0], shape[2])}
    result = {kind: {str(t): median_ms(path, t, args.runs, args.warmup, feed) for t in args.threads}
              for kind, path in (("fp32", args.model), ("int8", int8))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
