#!/usr/bin/env python3
"""Trains MobileNets and the classic CNNs of classic_cnns.py on Fashion-MNIST (Debian's dataset-fashion-mnist) and exports them to ONNX in
Tests/CNNQuantTests/Fixtures/fashion-mnist/ (committed; the accuracy tests read them), with the float
test accuracy each reaches (accuracy.json).

The 28×28 grey images are resized (bilinear) to ρ×ρ and given as three equal channels, normalised
with mean 0.2860 and std 0.3530: cnn-quantize's `--preset fashion-mnist` does the same.

  python3 calibration/train_fashion_mnist.py [--epochs 2] [--threads 1] ARCH:ALPHA:RHO ...
  ARCH: v1, v2, v3s, v3l     e.g.  v2:0.5:32 v3s:0.75:48
        or one of classic_cnns.BUILDERS (lenet5, alexnet, vgg16, nin, googlenet, resnet18, resnet50,
        densenet121, mnasnet, efficientnet_b0, regnet_x_400mf, regnet_y_400mf, mobilenet_v2_same)
        e.g.  resnet18:0.25:32

Needs: pip install torch onnx onnxscript; pip install --no-deps torchvision.
"""
import argparse
import gzip
import json
import os
import sys
import types

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import numpy as np
import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures", "fashion-mnist")
MEAN, STD = 0.2860, 0.3530
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "CNNQuantTests", "Fixtures"))
from make_fixtures import mobilenet_v1  # noqa: E402  (the same V1 the parity fixtures use)
sys.path.insert(0, HERE)
import classic_cnns  # noqa: E402


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    if data[2] == 8 and data[3] == 3:
        n, h, w = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, h, w)
    return np.frombuffer(data, np.uint8, offset=8)


def model(arch, alpha):
    if arch in classic_cnns.BUILDERS:
        return classic_cnns.BUILDERS[arch](alpha)
    if arch == "v1":
        return mobilenet_v1(alpha, 10)
    if arch == "v2":
        return torchvision.models.mobilenet_v2(width_mult=alpha, num_classes=10)
    if arch == "v3s":
        return torchvision.models.mobilenet_v3_small(width_mult=alpha, num_classes=10)
    return torchvision.models.mobilenet_v3_large(width_mult=alpha, num_classes=10)


def batches(images, labels, rho, size, shuffle, generator=None):
    order = torch.randperm(len(images), generator=generator) if shuffle else torch.arange(len(images))
    for start in range(0, len(images), size):
        pick = order[start:start + size]
        x = torch.from_numpy(images[pick.numpy()]).float().div(255).unsqueeze(1)
        x = F.interpolate(x, size=(rho, rho), mode="bilinear", align_corners=False) if rho != 28 else x
        yield ((x - MEAN) / STD).expand(-1, 3, -1, -1), torch.from_numpy(labels[pick.numpy()].astype(np.int64))


def evaluate(net, images, labels, rho):
    net.eval()
    correct = 0
    with torch.no_grad():
        for x, y in batches(images, labels, rho, 500, False):
            correct += (net(x).argmax(1) == y).sum().item()
    return 100.0 * correct / len(images)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="+")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_x, train_y = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    test_x, test_y = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    os.makedirs(OUT, exist_ok=True)
    summary_path = os.path.join(OUT, "accuracy.json")
    for spec in args.models:
        arch, alpha, rho = spec.split(":")
        alpha, rho = float(alpha), int(rho)
        torch.manual_seed(0)
        net = model(arch, alpha)
        steps = args.epochs * ((len(train_x) + 127) // 128)
        optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
        generator = torch.Generator().manual_seed(0)
        for epoch in range(args.epochs):
            net.train()
            for x, y in batches(train_x, train_y, rho, 128, True, generator):
                optimizer.zero_grad()
                F.cross_entropy(net(x), y).backward()
                optimizer.step()
                schedule.step()
            print(f"{spec} epoch {epoch + 1}: test top-1 {evaluate(net, test_x, test_y, rho):.2f}%", flush=True)
        accuracy = evaluate(net, test_x, test_y, rho)
        name = f"{arch if arch in classic_cnns.BUILDERS else 'mobilenet_' + arch}_{alpha:g}_{rho}"
        net.eval()
        torch.onnx.export(net, torch.zeros(1, 3, rho, rho), os.path.join(OUT, name + ".onnx"), input_names=["image"],
                          output_names=["logits"], opset_version=13, dynamo=False)
        # Read again just before writing: another run may have added models meanwhile.
        summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
        summary[name] = {"arch": arch, "alpha": alpha, "resolution": rho, "epochs": args.epochs, "float_top1": round(accuracy, 2)}
        with open(summary_path, "w") as f:
            json.dump(summary, f, indent=2, sort_keys=True)
        print(f"wrote {name}.onnx: float top-1 {accuracy:.2f}%", flush=True)


if __name__ == "__main__":
    main()
