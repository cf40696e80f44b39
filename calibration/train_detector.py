#!/usr/bin/env python3
"""Trains torchvision's SSDLite (the ssdlite320_mobilenet_v3_large architecture: 320×320, six
feature maps, depthwise-separable heads, 6 anchors per place) on a MobileNet V3-Large ×0.5
backbone on scenes of Fashion-MNIST garments, since no trained detection weights are reachable
offline, and writes into Tests/CNNQuantTests/Fixtures/detection/ (committed; the tests and
compare_heads.py read it):

  ssdlite320_mobilenet_v3_large_0.5.onnx  backbone and head up to the raw outputs: "boxes"
                                        [1, 3234, 4] (box offsets per anchor) and "scores"
                                        [1, 3234, 11] (logits; 0 is background, 1–10 the garment
                                        classes), legacy exporter, opset 13; the input is the
                                        scene in [-1, 1] (`--preset unit --mean 0.5 --std 0.5`)
  calibration/*.png                     64 scenes from the training images, to calibrate on
  test/*.png, test/boxes.json           32 scenes from the test images, with their boxes
                                        ([x0, y0, x1, y1, class 1–10] per garment)

A scene is a 320×320 black canvas with one to four garments, each scaled ×2 to ×6 (56 to 168
pixels) at a random place, drawn in turn (a later one covers an earlier one); a garment's box is its
ink (above 20% of full scale) at the time it is drawn. ×0.5 keeps the committed model at 6 MB (full
width: 9 MB) and the structure is torchvision's: the extra feature layers and the heads are built
by the same functions. Seeded; about 20 minutes on 2 threads.

    python3 calibration/train_detector.py [--steps 800] [--threads 2]

Needs: Debian's dataset-fashion-mnist; pip install torch onnx onnxscript numpy pillow; pip install
--no-deps torchvision.
"""
import argparse
import json
import os
import sys
import time
import types
from functools import partial

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision.models.detection import ssdlite

from train_segmenter import idx  # the Fashion-MNIST IDX reader

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "detection")
SIZE = 320
NAME = "ssdlite320_mobilenet_v3_large_0.5.onnx"


def scene(images, labels, rng):
    """One canvas (uint8, SIZE×SIZE) and its boxes [[x0, y0, x1, y1, class 1–10], ...]."""
    canvas = np.zeros((SIZE, SIZE), np.uint8)
    boxes = []
    for _ in range(rng.integers(1, 5)):
        i = rng.integers(0, len(images))
        scale = int(rng.integers(2, 7))
        item = images[i].repeat(scale, 0).repeat(scale, 1)
        side = 28 * scale
        y, x = rng.integers(0, SIZE - side + 1, 2)
        ink = item > 51
        canvas[y:y + side, x:x + side][ink] = item[ink]
        rows, cols = np.nonzero(ink)
        boxes.append([int(x + cols.min()), int(y + rows.min()), int(x + cols.max() + 1), int(y + rows.max() + 1),
                      int(labels[i]) + 1])
    return canvas, boxes


def model_at_half_width():
    """ssdlite320_mobilenet_v3_large's construction with width_mult 0.5 for the backbone."""
    norm = partial(torch.nn.BatchNorm2d, eps=0.001, momentum=0.03)
    backbone = torchvision.models.mobilenet_v3_large(width_mult=0.5, norm_layer=norm, reduced_tail=False)
    ssdlite._normal_init(backbone)
    backbone = ssdlite._mobilenet_extractor(backbone, 6, norm)
    anchors = ssdlite.DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    channels = ssdlite.det_utils.retrieve_out_channels(backbone, (SIZE, SIZE))
    head = ssdlite.SSDLiteHead(channels, anchors.num_anchors_per_location(), 11, norm)
    return ssdlite.SSD(backbone, anchors, (SIZE, SIZE), 11, head=head, image_mean=[0.5] * 3, image_std=[0.5] * 3,
                       score_thresh=0.001, nms_thresh=0.55, detections_per_img=300, topk_candidates=300)


class Raw(torch.nn.Module):
    """Backbone and head on an input already in [-1, 1]: the raw box offsets and class logits."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        head = self.model.head(list(self.model.backbone(x).values()))
        return head["bbox_regression"], head["cls_logits"]


def tensors(scenes):
    images = [torch.from_numpy(c).float().div(255).expand(3, -1, -1) for c, _ in scenes]
    targets = [{"boxes": torch.tensor([b[:4] for b in boxes], dtype=torch.float32),
                "labels": torch.tensor([b[4] for b in boxes], dtype=torch.int64)} for _, boxes in scenes]
    return images, targets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    test = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    model = model_at_half_width()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=args.steps)
    rng = np.random.default_rng(0)
    model.train()
    start = time.time()
    for step in range(args.steps):
        images, targets = tensors([scene(*train, rng) for _ in range(16)])
        losses = model(images, targets)
        loss = losses["bbox_regression"] + losses["classification"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}: box loss {losses['bbox_regression'].item():.3f}, "
                  f"class loss {losses['classification'].item():.3f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    rng = np.random.default_rng(1)
    for folder, (images, labels), count in (("calibration", train, 64), ("test", test, 32)):
        out = os.path.join(OUT, folder)
        os.makedirs(out, exist_ok=True)
        truth = {}
        for i in range(count):
            canvas, boxes = scene(images, labels, rng)
            Image.fromarray(canvas).save(os.path.join(out, f"scene_{i:02d}.png"))
            truth[f"scene_{i:02d}.png"] = boxes
        if folder == "test":
            with open(os.path.join(out, "boxes.json"), "w") as f:
                json.dump(truth, f, indent=0)
    torch.onnx.export(Raw(model), torch.zeros(1, 3, SIZE, SIZE), os.path.join(OUT, NAME), input_names=["image"],
                      output_names=["boxes", "scores"], opset_version=13, dynamo=False)


if __name__ == "__main__":
    main()
