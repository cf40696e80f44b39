"""ONNX Runtime side of benchmarks/compare-peers. `prepare` quantizes a float ONNX model with
onnxruntime's quantize_static (QDQ, per-channel int8 weights, uint8 activations, after
quant_pre_process, the same calibration images cnnq used); `time` times the float or the int8 model,
batch 1, at one thread count, and prints {"min": ms, "median": ms}."""
import argparse
import pathlib

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

import peer_images
import timing

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess(path, size):
    """torchvision's recipe, as cnn-quantize's --preset torchvision: the centre crop, ImageNet
    mean/std, NCHW."""
    x = (np.asarray(peer_images.centre_crop(path, size), dtype=np.float32) / 255 - MEAN) / STD
    return x.transpose(2, 0, 1)[None].copy()


class Images(CalibrationDataReader):
    def __init__(self, paths, name, size):
        self.items = iter([{name: preprocess(p, size)} for p in paths])

    def get_next(self):
        return next(self.items, None)


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def prepare(args):
    """Quantizes MODEL.onnx into MODEL.ort-int8.onnx; prints nothing."""
    name, shape = (lambda i: (i.name, i.shape))(session(args.model, 1).get_inputs()[0])
    paths = peer_images.calibration_paths(args.calibration, args.samples)
    # ORT's recommended preparation: shape inference and graph optimization (BatchNorm folded) first.
    prepared = args.model.with_suffix(".ort-prepared.onnx")
    quant_pre_process(str(args.model), str(prepared))
    quantize_static(str(prepared), str(args.model.with_suffix(".ort-int8.onnx")), Images(paths, name, shape[2]),
                    quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)


def time_model(args):
    """Times the fp32 model (MODEL.onnx) or the int8 one prepare wrote: prints {"min": ms, "median": ms}."""
    path = args.model if args.kind == "fp32" else args.model.with_suffix(".ort-int8.onnx")
    s = session(path, args.threads)
    x = s.get_inputs()[0]
    feed = {x.name: np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)}
    timing.report(lambda: s.run(None, feed), args.runs, args.warmup)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("model", type=pathlib.Path)
    p.add_argument("--calibration", type=pathlib.Path, required=True)
    p.add_argument("--samples", type=int, default=32)
    t = commands.add_parser("time")
    t.add_argument("model", type=pathlib.Path)
    t.add_argument("--kind", choices=["fp32", "int8"], required=True)
    timing.add_options(t)
    args = parser.parse_args()
    prepare(args) if args.command == "prepare" else time_model(args)


if __name__ == "__main__":
    main()
