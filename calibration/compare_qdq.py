"""cnnq against ONNX Runtime on the model `cnn-quantize export` writes: the same int8 model run by two
runtimes on the same inputs. Each image goes through `cnn-quantize run`, which writes the float input
calibration's preprocessing makes of it (--save-input) and cnnq's int8 outputs (--raw, one after
another); ONNX Runtime runs the exported QDQ graph on that input. Prints the first output's top-1
agreement and the SQNR of cnnq's dequantized outputs (all of them) against ONNX Runtime's, and exits 1 below --min-agreement or --min-sqnr. They are not meant
to be bit-identical: ONNX Runtime requantizes its own way (its QDQ fusion, its rounding).

    python calibration/compare_qdq.py MODEL.cnnq MODEL.qdq.onnx IMAGE_FOLDER [--tool PATH] [--images N]

Needs: pip install onnxruntime numpy
"""
import argparse
import glob
import math
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort

from cnnq_run import run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("qdq")
    parser.add_argument("images")
    parser.add_argument("--tool", default=".build/debug/cnn-quantize")
    parser.add_argument("--images-limit", "--images", dest="limit", type=int, default=20)
    parser.add_argument("--min-agreement", type=float, default=90.0, help="percent")
    parser.add_argument("--min-sqnr", type=float, default=20.0, help="dB")
    args = parser.parse_args()

    files = sorted(f for f in glob.glob(os.path.join(args.images, "*")) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    files = files[: args.limit]
    if not files:
        sys.exit(f"error: no .jpg or .png images in {args.images}")
    ort.set_default_logger_severity(3)  # errors only: its shape-merge warnings are not ours to act on
    session = ort.InferenceSession(args.qdq, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    agree, signal, noise = 0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as work:
        for image in files:
            x, outputs = run(args.tool, args.model, image, work)
            references = session.run(None, {input_name: x})
            if [o.size for o in references] != [o.size for o in outputs]:
                sys.exit(f"error: cnnq's outputs have {[o.size for o in outputs]} values, the QDQ model's "
                         f"{[o.size for o in references]}")
            for k, (reference, cnnq) in enumerate(zip(references, outputs)):
                # cnnq writes a 4-D output NHWC, as it holds it.
                reference = (reference.transpose(0, 2, 3, 1) if reference.ndim == 4 else reference).astype(np.float64).ravel()
                if k == 0:
                    agree += int(np.argmax(cnnq) == np.argmax(reference))
                signal += float(np.sum(reference**2))
                noise += float(np.sum((reference - cnnq) ** 2))
    agreement = 100.0 * agree / len(files)
    sqnr = math.inf if noise == 0 else 10 * math.log10(signal / noise)
    print(f"{os.path.basename(args.model)}: {len(files)} images, top-1 agreement {agree}/{len(files)} "
          f"({agreement:.0f}%), SQNR {sqnr:.1f} dB, cnnq against ONNX Runtime {ort.__version__} on the exported QDQ model")
    if agreement < args.min_agreement or sqnr < args.min_sqnr:
        sys.exit(f"error: below --min-agreement {args.min_agreement}% or --min-sqnr {args.min_sqnr} dB")


if __name__ == "__main__":
    main()
