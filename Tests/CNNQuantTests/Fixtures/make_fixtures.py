#!/usr/bin/env python3
"""Regenerates the float-parity fixtures and the torchvision reference counts.

For each model: a torchvision (or, for V1, a plain torch) MobileNet with seeded weights and
non-trivial BatchNorm statistics, exported to ONNX, plus a random input and onnxruntime's output,
both stored as ONNX TensorProto files (input_0.pb, output_0.pb, … one per output) in parity/<name>/. Two more
cover the forms of other exporters: `mobilenet_v2_tf_same`, TensorFlow's "same" padding computed
at run time (classic_cnns.tf_same) as the legacy exporter writes it (ConstantOfShape, Transpose and
Pad chains), where a stride-2 window pads one more pixel at the end; `mobilenet_v3_small_external`, weights in a
`model.onnx.data` file beside the model (the dynamo exporter's `external_data=True`).
`make_fixtures.py NAME ...` regenerates only the fixtures named.
torchvision-counts.json holds parameter and MAC counts of torchvision's V2/V3 for each width.

Needs: pip install torch onnx onnxruntime onnxscript pillow; pip install --no-deps torchvision
(a CPU torch wheel with a torchvision built for another torch works: only the model definitions
are used). The Swift tests read the committed outputs; CI needs no Python.
"""
import json
import os
import sys
import types

# torchvision's compiled ops are not needed; skip registering them so a mismatched build imports.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import numpy as np
import onnx
import onnxruntime
import torch
from onnx import numpy_helper
from torch import nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "calibration"))
import classic_cnns  # noqa: E402


def mobilenet_v1(width, num_classes):
    """MobileNet V1 as in the paper / TF-slim (ReLU6), channels rounded to multiples of 8."""
    def ch(c):
        return max(8, int(c * width + 4) // 8 * 8)

    def conv_bn(cin, cout, k, stride, groups=1):
        return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]

    layers = conv_bn(3, ch(32), 3, 2)
    spec = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    cin = ch(32)
    for cout, stride in spec:
        layers += conv_bn(cin, cin, 3, stride, groups=cin) + conv_bn(cin, ch(cout), 1, 1)
        cin = ch(cout)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes))


def randomize_batchnorm_and_classifier(model, generator):
    """Non-trivial BatchNorm statistics (so folding is exercised) and unit-scale classifier weights
    (torchvision's N(0, 0.01) init gives logits too small for an absolute error bound to mean much)."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            module.weight.data = torch.randn(module.weight.shape, generator=generator) / module.in_features ** 0.5 * 4
            module.bias.data = torch.randn(module.out_features, generator=generator) * 0.1
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.weight.data = torch.rand(c, generator=generator) + 0.5
            module.bias.data = torch.randn(c, generator=generator) * 0.1
            module.running_mean.data = torch.randn(c, generator=generator) * 0.1
            module.running_var.data = torch.rand(c, generator=generator) + 0.5


def count(model, resolution):
    """Parameters (trainable, as torchvision counts them) and multiply-accumulates of Conv and Linear."""
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            macs += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    for h in handles:
        h.remove()
    return sum(p.numel() for p in model.parameters()), macs


# name, builder, resolution, opset, exporter ("legacy-keep-bn": TorchScript exporter; "dynamo": torch.export)


class UpsamplingHead(nn.Module):
    """A segmentation-style head: features at 1/2 and 1/4, the coarse one resized (bilinear) to the
    fine one's size read from its shape at run time, as torchvision's LRASPP does, added, then
    doubled (nearest) back to the input's size."""

    def __init__(self):
        super().__init__()
        self.fine = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU())
        self.coarse = nn.Sequential(nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU())
        self.classifier = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        fine = self.fine(x)
        coarse = nn.functional.interpolate(self.coarse(fine), size=fine.shape[-2:], mode="bilinear", align_corners=False)
        return self.classifier(nn.functional.interpolate(fine + coarse, scale_factor=2.0, mode="nearest"))


class Opset9Head(nn.Module):
    """What the legacy exporter writes at opset 9: Clip bounds as attributes (ReLU6), Upsample with
    its scales a Constant (nearest ×2) or computed from shapes (bilinear to the fine map's size:
    Shape, Slice with attribute bounds, Cast, Div, Concat)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU6())
        self.coarse = nn.Sequential(nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU6())
        self.classifier = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        fine = self.stem(x)
        coarse = nn.functional.interpolate(self.coarse(fine), size=fine.shape[-2:], mode="bilinear", align_corners=False)
        merged = nn.functional.interpolate(fine + coarse, scale_factor=2.0, mode="nearest")
        return self.classifier(merged)


class TransposedHead(nn.Module):
    """Transposed convolutions as decoders write them: k2 s2 then BatchNorm and ReLU (DB text
    detectors' head), k4 s2 p1, k3 s2 p1 with output padding in 2 groups, k3 s1 dilated, and k4 s4
    depthwise; a second output, k2 s2 then a sigmoid (the DB head's last layer)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU())
        self.up2 = nn.Sequential(nn.ConvTranspose2d(8, 8, 2, 2), nn.BatchNorm2d(8), nn.ReLU())
        self.up4 = nn.ConvTranspose2d(8, 6, 4, 2, 1)
        self.up3 = nn.ConvTranspose2d(6, 4, 3, 2, 1, output_padding=1, groups=2, bias=False)
        self.dilated = nn.ConvTranspose2d(4, 4, 3, 1, 2, dilation=2)
        self.quadruple = nn.ConvTranspose2d(4, 4, 4, 4, groups=4)
        self.probability = nn.ConvTranspose2d(8, 3, 2, 2)
        for layer in (self.up2[0], self.up4, self.up3, self.dilated, self.quadruple, self.probability):
            layer.weight.data *= 3  # outputs of order 1, so the parity bound means something

    def forward(self, x):
        features = self.down(x)
        decoded = self.quadruple(self.dilated(self.up3(torch.relu(self.up4(self.up2(features))))))
        return decoded, torch.sigmoid(self.probability(features))


class SSDHead(nn.Module):
    """torchvision's SSDLite head (depthwise 3×3 + 1×1 per feature map, 6 anchors per place) on two
    feature maps of a small backbone: each map's [N, A·K, H, W] becomes [N, H·W·A, K] through
    Reshape, Transpose (0, 3, 4, 1, 2) and Reshape, and the maps are concatenated along the anchors;
    two outputs, box offsets (K = 4) and class logits (K = 5)."""

    def __init__(self):
        super().__init__()
        from torchvision.models.detection.ssdlite import SSDLiteHead
        self.fine = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU6())
        self.coarse = nn.Sequential(nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU6())
        self.head = SSDLiteHead([8, 16], [6, 6], 5, nn.BatchNorm2d)
        for layer in self.head.modules():
            if isinstance(layer, nn.Conv2d):
                layer.weight.data *= 10  # torchvision's N(0, 0.03): outputs of order 1, so the bound means something

    def forward(self, x):
        fine = self.fine(x)
        head = self.head([fine, self.coarse(fine)])
        return head["bbox_regression"], head["cls_logits"]


def resize_chain(path):
    """Resize in every mode cnnq reads, one after another (ONNX written directly: torch exports
    only some of them): nearest with each rounding and linear with each coordinate mode, scales and
    sizes, up and down, on a 1×3×7×9 input."""
    from onnx import TensorProto, helper
    steps = [  # mode, coordinate_transformation_mode, nearest_mode, scales or sizes
        ("nearest", "asymmetric", "floor", [1, 1, 2, 2]),
        ("linear", "half_pixel", "round_prefer_floor", (10, 13)),
        ("linear", "align_corners", "round_prefer_floor", [1, 1, 1.5, 1.5]),
        ("nearest", "tf_half_pixel_for_nn", "round_prefer_ceil", (8, 11)),
        ("linear", "pytorch_half_pixel", "round_prefer_floor", (17, 1)),
        ("nearest", "half_pixel", "round_prefer_floor", [1, 1, 0.5, 3]),
        ("nearest", "align_corners", "ceil", (5, 7)),
        ("linear", "asymmetric", "round_prefer_floor", [1, 1, 4, 4]),
    ]
    nodes, initializers, previous = [], [], "x"
    for i, (mode, transform, rounding, target) in enumerate(steps):
        inputs = [previous, ""]
        if isinstance(target, list):
            initializers.append(numpy_helper.from_array(np.array(target, np.float32), f"scales_{i}"))
            inputs.append(f"scales_{i}")
        else:
            initializers.append(numpy_helper.from_array(np.array([1, 3, *target], np.int64), f"sizes_{i}"))
            inputs += ["", f"sizes_{i}"]
        output = f"r{i}" if i < len(steps) - 1 else "y"
        nodes.append(helper.make_node("Resize", inputs, [output], name=f"resize_{i}", mode=mode,
                                      coordinate_transformation_mode=transform, nearest_mode=rounding))
        previous = output
    graph = helper.make_graph(nodes, "resize_chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 7, 9])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 20, 28])], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)]), path)


def upsample_chain(path, opset):
    """Upsample, the op Resize replaced in opset 10, as opset 7 (scales an attribute) or 9 (scales
    an input) writes it: nearest ×2, then linear ×(2, 1.5), on a 1×3×7×9 input."""
    from onnx import TensorProto, helper
    nodes, initializers = [], []
    for i, (mode, scales) in enumerate([("nearest", [1.0, 1.0, 2.0, 2.0]), ("linear", [1.0, 1.0, 2.0, 1.5])]):
        inputs, output = ["x" if i == 0 else "u0"], "y" if i == 1 else "u0"
        if opset == 7:
            nodes.append(helper.make_node("Upsample", inputs, [output], name=f"upsample_{i}", mode=mode, scales=scales))
            continue
        initializers.append(numpy_helper.from_array(np.array(scales, np.float32), f"scales_{i}"))
        nodes.append(helper.make_node("Upsample", inputs + [f"scales_{i}"], [output], name=f"upsample_{i}", mode=mode))
    graph = helper.make_graph(nodes, f"upsample_{opset}", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 7, 9])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 28, 27])], initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), path)


FIXTURES = [
    ("mobilenet_v1", lambda: mobilenet_v1(0.25, 100), 96, 13, "legacy-keep-bn"),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(width_mult=0.35, num_classes=100), 96, 18, "dynamo"),
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=100), 96, 11, "legacy-keep-bn"),
    ("mobilenet_v3_large", lambda: torchvision.models.mobilenet_v3_large(width_mult=0.35, num_classes=100), 96, 21, "dynamo"),
    ("mobilenet_v2_tf_same", lambda: classic_cnns.BUILDERS["mobilenet_v2_same"](0.35), 96, 17, "legacy"),
    ("mobilenet_v3_small_external", lambda: torchvision.models.mobilenet_v3_small(width_mult=0.35, num_classes=10), 64, 18,
     "dynamo-external"),
    ("upsampling_head", UpsamplingHead, 30, 13, "legacy"),
    ("resize_chain", resize_chain, 0, 19, "onnx"),
    ("upsample_7", lambda path: upsample_chain(path, 7), 0, 7, "onnx"),
    ("upsample_9", lambda path: upsample_chain(path, 9), 0, 9, "onnx"),
    ("opset9_head", Opset9Head, 24, 9, "legacy"),
    ("transposed_head", TransposedHead, 20, 17, "legacy"),
    ("ssd_head", SSDHead, 24, 13, "legacy"),
]


def export(name, build, resolution, opset, exporter):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    folder = os.path.join(HERE, "parity", name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    model = None if exporter == "onnx" else build().eval()
    if model:
        randomize_batchnorm_and_classifier(model, generator)
    x = torch.randn(1, 3, 7, 9, generator=generator) if exporter == "onnx" else torch.randn(1, 3, resolution, resolution, generator=generator)
    if exporter == "onnx":
        build(path)
    elif exporter.startswith("dynamo"):
        torch.onnx.export(model, (x,), path, opset_version=opset, dynamo=True, external_data=exporter.endswith("external"))
    elif exporter == "legacy":
        with torch.no_grad():
            names = ["logits"] if isinstance(model(x), torch.Tensor) else [f"output_{i}" for i in range(len(model(x)))]
        torch.onnx.export(model, x, path, opset_version=opset, dynamo=False, input_names=["input"], output_names=names)
    else:
        # PRESERVE keeps BatchNormalization nodes (EVAL would fold them in the exporter).
        torch.onnx.export(model, x, path, opset_version=opset, dynamo=False, training=torch.onnx.TrainingMode.PRESERVE,
                          input_names=["input"], output_names=["logits"])
    onnx.checker.check_model(path)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        computed = (model(x),) if model and isinstance(model(x), torch.Tensor) else model(x) if model else outputs
        drift = max(float(np.abs(np.asarray(a) - b).max()) for a, b in zip(computed, outputs))
    expected = outputs[0]
    files = [("input_0.pb", x.numpy())] + [(f"output_{i}.pb", output) for i, output in enumerate(outputs)]
    for file, array in files:
        with open(os.path.join(folder, file), "wb") as f:
            f.write(numpy_helper.from_array(np.ascontiguousarray(array)).SerializeToString())
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"|logits| max {float(np.abs(expected).max()):.3f};", end=" ")
    print(f"{name}: opset {opset} ({exporter}), {os.path.getsize(path)} bytes, torch vs onnxruntime {drift:.2e}, ops {ops}")


def counts():
    result = {}
    for arch in ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"):
        for width in (0.35, 0.5, 0.75, 1.0, 1.4):
            model = getattr(torchvision.models, arch)(width_mult=width).eval()
            params, macs = count(model, 224)
            result[f"{arch}@{width}"] = {"params": params, "macs": macs}
    with open(os.path.join(HERE, "torchvision-counts.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print("mobilenet_v1 1.0/224 (own definition):", count(mobilenet_v1(1.0, 1000).eval(), 224))


def error_models():
    """Small valid ONNX files the importer must refuse with a clear message."""
    from onnx import TensorProto, helper
    folder = os.path.join(HERE, "errors")
    os.makedirs(folder, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weight = numpy_helper.from_array(np.ones((4, 4, 3), np.float32), "w")
    cases = {
        "unsupported_op": ([helper.make_node("Erf", ["x"], ["y"], name="erf_1")], []),
        "conv1d": ([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_1d", kernel_shape=[3])], [weight]),
        "lrn": ([helper.make_node("LRN", ["x"], ["y"], name="lrn_1", size=5)], []),
    }
    for name, (nodes, initializers) in cases.items():
        graph = helper.make_graph(nodes, name, [x], [y], initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(model, os.path.join(folder, name + ".onnx"))


if __name__ == "__main__":
    named = set(sys.argv[1:])
    for fixture in FIXTURES:
        if not named or fixture[0] in named:
            export(*fixture)
    if not named:
        counts()
        error_models()
