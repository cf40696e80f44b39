"""TFLite side of benchmarks/compare-peers. `prepare` converts Keras's MobileNet of the same
architecture, width and resolution (random weights: timing does not depend on them, and trained ones
are not reachable offline) to a full-int8 TFLite model, with the same calibration images as the
representative dataset; `time` times it batch 1 with TFLite's interpreter, whose default delegate is
XNNPACK, at one thread count, and prints {"min": ms, "median": ms}."""
import argparse
import contextlib
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import peer_images  # noqa: E402
import timing  # noqa: E402

BUILDERS = {
    "mobilenet-v1": lambda a, s: tf.keras.applications.MobileNet(input_shape=(s, s, 3), alpha=a, weights=None),
    "mobilenet-v2": lambda a, s: tf.keras.applications.MobileNetV2(input_shape=(s, s, 3), alpha=a, weights=None),
    "mobilenet-v3-small": lambda a, s: tf.keras.applications.MobileNetV3Small(
        input_shape=(s, s, 3), alpha=a, weights=None, include_preprocessing=False),
    "mobilenet-v3-large": lambda a, s: tf.keras.applications.MobileNetV3Large(
        input_shape=(s, s, 3), alpha=a, weights=None, include_preprocessing=False),
}


def image(path, size):
    """The centre crop scaled to [-1, 1] (Keras MobileNet's range), NHWC."""
    return (np.asarray(peer_images.centre_crop(path, size), dtype=np.float32) / 127.5 - 1)[None]


def prepare(args):
    samples = [image(p, args.resolution) for p in peer_images.calibration_paths(args.calibration, args.samples)]
    converter = tf.lite.TFLiteConverter.from_keras_model(BUILDERS[args.architecture](args.alpha, args.resolution))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([s] for s in samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(sys.stderr):  # the converter's progress is not the result
        args.output.write_bytes(converter.convert())


def time_model(args):
    interpreter = tf.lite.Interpreter(model_path=str(args.model), num_threads=args.threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
    timing.report(interpreter.invoke, args.runs, args.warmup)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("architecture", choices=sorted(BUILDERS))
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--resolution", type=int, default=224)
    p.add_argument("--calibration", type=pathlib.Path, required=True)
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("-o", "--output", type=pathlib.Path, required=True)
    t = commands.add_parser("time")
    t.add_argument("model", type=pathlib.Path)
    timing.add_options(t)
    args = parser.parse_args()
    prepare(args) if args.command == "prepare" else time_model(args)


if __name__ == "__main__":
    main()
