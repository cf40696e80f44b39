"""The classic CNNs beyond MobileNet, from torchvision's definitions where it has them, narrowed by a
width multiplier α so that the trained fixtures stay small (a few MB) and fit small resolutions ρ.

What is changed from torchvision, and why:
- every channel count is multiplied by α (the stem's input stays 3 channels);
- AlexNet and VGG-16 drop the adaptive average pool (at ρ = 96 or 64 the last feature map is 2×2,
  and pooling it "up" to 6×6 or 7×7 would only repeat pixels); the classifier reads the 2×2 map
  flattened, so the first fully connected layer still sees a spatial flatten;
- LeNet-5 and NiN are not in torchvision: they follow LeCun et al. 1998 (with sigmoid after the
  convolutions and tanh after the dense layers, as in the course material) and Lin et al. 2013;
- `mobilenet_v2_same` is torchvision's MobileNet V2 with TensorFlow's "same" padding computed from
  the input size at run time, as PyTorch ports of TF networks write it (timm's `Conv2dSame`): the
  legacy ONNX exporter writes it as a Shape/ConstantOfShape/Concat/Transpose chain feeding a Pad.
"""
import functools
import importlib
import math

import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import efficientnet, regnet, resnet, vgg

# The module, not the builder function torchvision.models exports under the same name.
googlenet = importlib.import_module("torchvision.models.googlenet")


def scaled(channels, alpha, minimum=4):
    return max(minimum, int(round(channels * alpha)))


def lenet5(alpha):
    return nn.Sequential(
        nn.Conv2d(3, scaled(6, alpha), 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(scaled(6, alpha), scaled(16, alpha), 5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(scaled(16, alpha) * 5 * 5, scaled(120, alpha)), nn.Tanh(),
        nn.Linear(scaled(120, alpha), scaled(84, alpha)), nn.Tanh(),
        nn.Linear(scaled(84, alpha), 10))


def alexnet(alpha):
    c = [scaled(n, alpha) for n in (64, 192, 384, 256, 256, 4096)]
    net = torchvision.models.AlexNet(num_classes=10)
    net.features = nn.Sequential(
        nn.Conv2d(3, c[0], 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    net.avgpool = nn.Identity()
    net.classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(c[4] * 2 * 2, c[5]), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(c[5], c[5]), nn.ReLU(inplace=True), nn.Linear(c[5], 10))
    return net


def vgg16(alpha):
    config = [v if v == "M" else scaled(v, alpha) for v in vgg.cfgs["D"]]
    net = vgg.VGG(vgg.make_layers(config, batch_norm=False), num_classes=10)
    width, hidden = config[-2], scaled(4096, alpha)
    net.avgpool = nn.Identity()
    net.classifier = nn.Sequential(
        nn.Linear(width * 2 * 2, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, 10))
    return net


def nin(alpha):
    def block(cin, cout, kernel, stride, padding):
        return [nn.Conv2d(cin, cout, kernel, stride, padding), nn.ReLU(),
                nn.Conv2d(cout, cout, 1), nn.ReLU(), nn.Conv2d(cout, cout, 1), nn.ReLU()]
    c = [scaled(n, alpha) for n in (96, 256, 384)]
    return nn.Sequential(
        *block(3, c[0], 11, 4, 0), nn.MaxPool2d(3, 2),
        *block(c[0], c[1], 5, 1, 2), nn.MaxPool2d(3, 2),
        *block(c[1], c[2], 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5),
        *block(c[2], 10, 3, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def googlenet_v1(alpha):
    def conv(cin, cout, **kwargs):
        return googlenet.BasicConv2d(cin if cin == 3 else scaled(cin, alpha), scaled(cout, alpha), **kwargs)
    inception = functools.partial(googlenet.Inception, conv_block=conv)
    net = googlenet.GoogLeNet(num_classes=10, aux_logits=False, transform_input=False, init_weights=True,
                              blocks=[conv, inception, googlenet.InceptionAux])
    net.fc = nn.Linear(scaled(1024, alpha), 10)
    return net


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with every stage's width times α."""
    def __init__(self, block, layers, alpha):
        self.alpha = alpha
        super().__init__(block, layers, num_classes=10)
        self.fc = nn.Linear(scaled(512, alpha) * block.expansion, 10)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, scaled(planes, self.alpha), blocks, stride, dilate)


def densenet121(alpha):
    return torchvision.models.DenseNet(growth_rate=scaled(32, alpha), block_config=(6, 12, 24, 16),
                                       num_init_features=scaled(64, alpha), num_classes=10)


def mnasnet(alpha):
    """torchvision's MNASNet with PyTorch's usual BatchNorm momentum (0.1) instead of its TensorFlow
    one (0.0003): in two epochs the running statistics would hardly move, and the evaluated model
    answered one class."""
    net = torchvision.models.MNASNet(alpha, num_classes=10)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1
    return net


def efficientnet_b0(alpha):
    settings, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=alpha, depth_mult=1.0)
    return efficientnet.EfficientNet(settings, dropout=0.2, num_classes=10, last_channel=last)


def regnet_400mf(alpha, depth, w_0, w_a, w_m, se_ratio=None):
    """torchvision's 400MF RegNet parameters with w_0 and w_a times α (w_0 kept a multiple of 8, as RegNet
    requires) and group width 8, so that the narrow stages still have several groups."""
    params = regnet.BlockParams.from_init_params(depth=depth, w_0=max(8, 8 * round(w_0 * alpha / 8)), w_a=w_a * alpha,
                                                 w_m=w_m, group_width=8, se_ratio=se_ratio)
    return regnet.RegNet(params, num_classes=10, stem_width=scaled(32, alpha))


class Conv2dSame(nn.Conv2d):
    """TensorFlow's "same": the total pad is what keeps ceil(size / stride) outputs, the odd pixel
    at the end (bottom, right), worked out from the input's size on every call."""

    def forward(self, x):
        pads = []
        for size, k, s, d in zip(x.size()[-2:], self.kernel_size, self.stride, self.dilation):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return super().forward(F.pad(x, [left, right, top, bottom]))


def tf_same(net):
    """`net` with every padded convolution replaced by a `Conv2dSame` of the same shape."""
    for name, child in net.named_children():
        if isinstance(child, nn.Conv2d) and child.padding != (0, 0):
            same = Conv2dSame(child.in_channels, child.out_channels, child.kernel_size, child.stride, 0,
                              child.dilation, child.groups, child.bias is not None)
            setattr(net, name, same)
        else:
            tf_same(child)
    return net


BUILDERS = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "nin": nin,
    "googlenet": googlenet_v1,
    "resnet18": lambda alpha: NarrowResNet(resnet.BasicBlock, [2, 2, 2, 2], alpha),
    "resnet50": lambda alpha: NarrowResNet(resnet.Bottleneck, [3, 4, 6, 3], alpha),
    "densenet121": densenet121,
    "mnasnet": mnasnet,
    "efficientnet_b0": efficientnet_b0,
    "regnet_x_400mf": lambda alpha: regnet_400mf(alpha, depth=22, w_0=24, w_a=24.48, w_m=2.54),
    "mobilenet_v2_same": lambda alpha: tf_same(torchvision.models.mobilenet_v2(width_mult=alpha, num_classes=10)),
    "regnet_y_400mf": lambda alpha: regnet_400mf(alpha, depth=16, w_0=48, w_a=27.89, w_m=2.09, se_ratio=0.25),
}
