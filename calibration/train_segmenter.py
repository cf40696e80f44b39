#!/usr/bin/env python3
"""Trains torchvision's LR-ASPP segmenter on a MobileNet V3-Large ×0.5 backbone (dilated, as
torchvision builds it) on scenes composed of Fashion-MNIST garments, since no trained segmentation
weights are reachable offline, and writes into Tests/CNNQuantTests/Fixtures/segmentation/
(committed; the real-model tests read it):

  lraspp_mobilenet_v3_large_0.5_160.onnx  the segmenter at 160×160, 11 classes (0: background, 1–10:
                                        the garment classes), legacy exporter, opset 13 (its bilinear
                                        Resizes take their sizes from shapes)
  calibration/*.png                     64 scenes from the training images, to calibrate on
  test/*.png                            32 scenes from the test images

A scene is a 160×160 grey canvas with three garments, each scaled ×2 (56×56) at a random place; a
pixel is labelled with the garment drawn last over it where that garment's ink is above 20% of full
scale, else background. The model sees the canvas as three equal channels normalised like the
Fashion-MNIST classifiers (`--preset fashion-mnist`). 600 steps of 16 scenes, about 4 minutes on 2
threads; seeded, so a rerun gives the same scenes and about the same weights.

    python3 calibration/train_segmenter.py [--steps 600] [--threads 2]

Needs: Debian's dataset-fashion-mnist; pip install torch onnx onnxscript numpy pillow; pip install
--no-deps torchvision.
"""
import argparse
import gzip
import os
import sys
import types

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "segmentation")
DATA = "/usr/share/datasets/fashion-mnist"
SIZE, ITEMS, MEAN, STD = 160, 3, 0.2860, 0.3530


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    if data[3] == 3:
        return np.frombuffer(data, np.uint8, offset=16).reshape(-1, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)


def scene(images, labels, rng):
    """One canvas (uint8, SIZE×SIZE) and its label map (0 background, 1 + class)."""
    canvas = np.zeros((SIZE, SIZE), np.uint8)
    target = np.zeros((SIZE, SIZE), np.int64)
    for i in rng.integers(0, len(images), ITEMS):
        item = images[i].repeat(2, 0).repeat(2, 1)
        y, x = rng.integers(0, SIZE - 56, 2)
        ink = item > 51
        canvas[y:y + 56, x:x + 56][ink] = item[ink]
        target[y:y + 56, x:x + 56][ink] = labels[i] + 1
    return canvas, target


def batch(images, labels, rng, n):
    scenes = [scene(images, labels, rng) for _ in range(n)]
    x = torch.from_numpy(np.stack([s[0] for s in scenes])).float().div(255).sub(MEAN).div(STD)
    return x.unsqueeze(1).expand(-1, 3, -1, -1), torch.from_numpy(np.stack([s[1] for s in scenes]))


class Logits(torch.nn.Module):
    """The segmenter's "out" map: its forward returns a dict."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    test = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    backbone = torchvision.models.mobilenet_v3_large(width_mult=0.5, dilated=True)
    model = torchvision.models.segmentation.lraspp._lraspp_mobilenetv3(backbone, num_classes=11)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=args.steps)
    rng = np.random.default_rng(0)
    model.train()
    for step in range(args.steps):
        x, y = batch(*train, rng, 16)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x)["out"], y)
        loss.backward()
        optimizer.step()
        schedule.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}: loss {loss.item():.3f}", flush=True)
    model.eval()
    rng = np.random.default_rng(1)
    for folder, (images, labels), count in (("calibration", train, 64), ("test", test, 32)):
        out = os.path.join(OUT, folder)
        os.makedirs(out, exist_ok=True)
        for i in range(count):
            Image.fromarray(scene(images, labels, rng)[0]).save(os.path.join(out, f"scene_{i:02d}.png"))
    x, y = batch(*test, np.random.default_rng(2), 64)
    with torch.no_grad():
        predicted = model(x)["out"].argmax(1)
    print(f"test pixel accuracy {100 * (predicted == y).float().mean().item():.2f}% "
          f"(background {100 * (y == 0).float().mean().item():.1f}% of pixels)")
    torch.onnx.export(Logits(model), torch.zeros(1, 3, SIZE, SIZE), os.path.join(OUT, f"lraspp_mobilenet_v3_large_0.5_{SIZE}.onnx"),
                      input_names=["input"], output_names=["out"], opset_version=13, dynamo=False)


if __name__ == "__main__":
    main()
