"""Plain-torch network definitions: the small embedded CNN, and torchvision-compatible ResNet-18 and MobileNetV3-Small.

Every backbone exposes the same small interface, which the fine-tuning strategies rely on:

* ``blocks`` - an ``nn.ModuleList`` of stages from input to output (the last one is what
  "last block + head" trains);
* ``pool`` - global pooling, (B, C, h, w) -> (B, C, 1, 1);
* ``feature_dim`` - the width of the pooled feature vector;
* ``forward(x)`` - (B, 3, H, W) float -> (B, feature_dim) features.

No dropout anywhere: dropout would draw from torch's global random state, and the two arms of an
experiment must see identical randomness apart from the augmentation.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """A compact VGG-style CNN (0.66 M parameters, about 25 M multiply-adds at 32x32).

    Stages: a stem (3->32 conv, 2x2 max-pool), then three blocks of two 3x3 conv-BN-ReLU layers
    (48, 96, 192 channels), each followed by a 2x2 max-pool, then global average pooling to a
    192-d feature. Works at 32x32 and up.
    """

    def __init__(self, widths: tuple[int, int, int, int] = (32, 48, 96, 192)) -> None:
        super().__init__()
        w0, w1, w2, w3 = widths
        self.blocks = nn.ModuleList([
            nn.Sequential(_conv_bn(3, w0), nn.MaxPool2d(2)),
            nn.Sequential(_conv_bn(w0, w1), _conv_bn(w1, w1), nn.MaxPool2d(2)),
            nn.Sequential(_conv_bn(w1, w2), _conv_bn(w2, w2), nn.MaxPool2d(2)),
            nn.Sequential(_conv_bn(w2, w3), _conv_bn(w3, w3)),
        ])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.feature_dim = w3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, feature_dim)."""
        for block in self.blocks:
            x = block(x)
        return self.pool(x).flatten(1)


class BasicBlock(nn.Module):
    """ResNet basic block; attribute names match torchvision's ``BasicBlock``."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual forward pass."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 whose ``state_dict`` keys match torchvision's ``resnet18`` (minus ``fc``).

    ``blocks`` groups the stem and the four stages so strategies can freeze by stage; the
    torchvision names (``conv1``, ``layer4.1.bn2.weight``...) stay on the module itself.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.feature_dim = 512

    @property
    def pool(self) -> nn.Module:
        """The global pooling layer (torchvision calls it ``avgpool``)."""
        return self.avgpool

    @property
    def blocks(self) -> nn.ModuleList:
        """Stages from input to output: stem, layer1..layer4 (not registered twice)."""
        stem = nn.Sequential(self.conv1, self.bn1, self.relu, self.maxpool)
        return nn.ModuleList([stem, self.layer1, self.layer2, self.layer3, self.layer4])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 512)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's channel rounding (so the squeeze-excitation widths match its checkpoints)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _conv_norm_act(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
                   act: type[nn.Module] | None = nn.Hardswish) -> nn.Sequential:
    """torchvision's ``Conv2dNormActivation``: keys ``0`` (conv), ``1`` (BN, eps 1e-3), ``2`` (activation)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout, eps=0.001, momentum=0.01)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision's ``SqueezeExcitation`` (``fc1``, ``fc2``; ReLU then Hardsigmoid)."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scale each channel of (B, C, H, W) by a learned gate."""
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class InvertedResidual(nn.Module):
    """MobileNetV3 block; ``block.<i>`` keys match torchvision's ``InvertedResidual``."""

    def __init__(self, cin: int, kernel: int, expanded: int, cout: int, use_se: bool, hard_swish: bool, stride: int) -> None:
        super().__init__()
        act = nn.Hardswish if hard_swish else nn.ReLU
        layers: list[nn.Module] = []
        if expanded != cin:
            layers.append(_conv_norm_act(cin, expanded, 1, act=act))
        layers.append(_conv_norm_act(expanded, expanded, kernel, stride, groups=expanded, act=act))
        if use_se:
            layers.append(SqueezeExcitation(expanded, _make_divisible(expanded // 4)))
        layers.append(_conv_norm_act(expanded, cout, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, H, W) -> (B, cout, H / stride, W / stride)."""
        out = self.block(x)
        return out + x if self.use_res_connect else out


# torchvision's mobilenet_v3_small: (in, kernel, expanded, out, squeeze-excite, hard-swish, stride)
_MOBILENET_V3_SMALL = [
    (16, 3, 16, 16, True, False, 2), (16, 3, 72, 24, False, False, 2), (24, 3, 88, 24, False, False, 1),
    (24, 5, 96, 40, True, True, 2), (40, 5, 240, 40, True, True, 1), (40, 5, 240, 40, True, True, 1),
    (40, 5, 120, 48, True, True, 1), (48, 5, 144, 48, True, True, 1), (48, 5, 288, 96, True, True, 2),
    (96, 5, 576, 96, True, True, 1), (96, 5, 576, 96, True, True, 1),
]


class MobileNetV3Small(nn.Module):
    """MobileNetV3-Small (0.93 M parameters without the classifier, about 60 M multiply-adds at 224 px).

    ``features.<i>`` keys match torchvision's ``mobilenet_v3_small`` (its ``classifier`` is
    dropped: our head sits on the 576-d pooled features). ``blocks`` groups the features into four
    stages (stride 4, 8, 16, 32) so "last block + head" trains the last stage.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_norm_act(3, 16, 3, 2)]
        layers += [InvertedResidual(*cfg) for cfg in _MOBILENET_V3_SMALL]
        layers.append(_conv_norm_act(96, 576, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.feature_dim = 576

    @property
    def pool(self) -> nn.Module:
        """The global pooling layer."""
        return self.avgpool

    @property
    def blocks(self) -> nn.ModuleList:
        """Stages from input to output: features 0-1, 2-3, 4-8, 9-12 (not registered twice)."""
        f = self.features
        return nn.ModuleList([nn.Sequential(f[0], f[1]), nn.Sequential(f[2], f[3]),
                              nn.Sequential(*f[4:9]), nn.Sequential(*f[9:13])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, 576)."""
        return self.avgpool(self.features(x)).flatten(1)


class Classifier(nn.Module):
    """A backbone followed by a linear head."""

    def __init__(self, backbone: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(int(backbone.feature_dim), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, num_classes) logits."""
        return self.head(self.backbone(x))


def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every conv/linear/BN in ``module`` from ``generator`` (torchvision's scheme).

    Explicit so that initialisation never reads torch's global random state.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            init_head(m, generator)


def init_head(head: nn.Linear, generator: torch.Generator) -> None:
    """Initialise a linear layer like ``nn.Linear`` does, but from ``generator``."""
    bound = 1.0 / head.in_features ** 0.5
    with torch.no_grad():
        head.weight.uniform_(-bound, bound, generator=generator)
        if head.bias is not None:
            head.bias.uniform_(-bound, bound, generator=generator)
