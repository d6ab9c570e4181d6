"""Backbones shared by the weeks. Each exposes ``feature_dim``; heads (projectors, clustering layers,
prototypes, codebooks) belong to the methods.

- :class:`SmallCNN`: ≈ 0.1 M parameters, for 28×28 grey or 32×32 colour images in fast mode.
- :class:`ResNet18Cifar`: CIFAR ResNet-18 (3×3 stride-1 stem, no max-pool) with a width multiplier; the stem the
  official SimCLR/MoCo CIFAR code switches on for 32-pixel images (``resnet.py`` ``cifar_stem``).
- :class:`DECAutoencoder`: DEC's fully connected d-500-500-2000-10 autoencoder.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .data import check_images  # moved to data.py; imported here so callers keep working


class SmallCNN(nn.Module):
    """Three conv blocks (32-64-128 channels, BN, ReLU), global average pooling → ``feature_dim`` = 128.

    ≈ 0.1 M parameters; ≈ 750 img/s training at 28×28 on 2 CPU cores.
    """

    def __init__(self, in_channels: int = 1, width: int = 32, feature_dim: int | None = None):
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels={in_channels!r} is not allowed: use 1 (grey) or 3 (colour).")
        w = width

        def block(cin, cout, pool):
            layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        self.in_channels = in_channels
        self.features = nn.Sequential(*block(in_channels, w, True), *block(w, 2 * w, True), *block(2 * w, 4 * w, False),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = 4 * w
        self.fc = nn.Identity() if feature_dim is None else nn.Linear(4 * w, feature_dim)
        if feature_dim is not None:
            self.feature_dim = feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, feature_dim)
        check_images(x, self.in_channels, "SmallCNN")
        return self.fc(self.features(x))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18Cifar(nn.Module):
    """ResNet-18 for 32×32 images: 3×3 stride-1 stem, no max-pool, widths 64·w … 512·w, global pooling.

    ``width=1`` is the standard 11.2 M-parameter network (GPU); ``width=0.25`` (0.72 M) fits CPU budgets.
    ``zero_init_residual=True`` sets the scale γ of the last BN of every residual branch (``bn2``) to 0, so
    each block starts as the identity (plus its shortcut), as google-research/simclr @ 383d414 ``resnet.py``
    does (``residual_block`` calls ``batch_norm_relu(..., init_zero=True)`` on its last BN); PyTorch's
    torchvision ResNet has the same switch under the same name (off by default).
    """

    def __init__(self, in_channels: int = 3, width: float = 1.0, zero_init_residual: bool = False):
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels={in_channels!r} is not allowed: use 1 (grey) or 3 (colour).")
        if not (0 < width <= 4):
            raise ValueError(f"width={width!r} is not allowed: use a multiplier in (0, 4], e.g. 0.25, 0.5 or 1.")
        if not isinstance(zero_init_residual, bool):
            raise ValueError(f"zero_init_residual={zero_init_residual!r} is not allowed: use True or False.")
        self.in_channels = in_channels
        c = [max(4, int(round(64 * width * m))) for m in (1, 2, 4, 8)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c[0], 3, 1, 1, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True))
        layers, cin = [], c[0]
        for i, cout in enumerate(c):
            stride = 1 if i == 0 else 2
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = c[-1]
        self.zero_init_residual = zero_init_residual
        if zero_init_residual:
            for block in self.layers:
                nn.init.zeros_(block.bn2.weight)  # γ = 0: the residual branch starts silent (official init_zero)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, feature_dim)
        check_images(x, self.in_channels, "ResNet18Cifar")
        return self.pool(self.layers(self.stem(x)))


class DECAutoencoder(nn.Module):
    """DEC's stacked autoencoder d-500-500-2000-10 (Xie et al. 2016, §3.2).

    ReLU after every layer except the embedding (encoder output) and the reconstruction (decoder output).
    ``encoder_layers``/``decoder_layers`` expose the Linear layers pairwise, for greedy layer-wise pretraining.
    """

    def __init__(self, dims=(784, 500, 500, 2000, 10)):
        super().__init__()
        dims = tuple(int(d) for d in dims)
        if len(dims) < 2 or min(dims) < 1:
            raise ValueError(f"dims={dims!r} is not allowed: give at least an input and an embedding size, all positive.")
        self.dims = dims
        self.encoder_layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.decoder_layers = nn.ModuleList(nn.Linear(b, a) for a, b in reversed(list(zip(dims[:-1], dims[1:]))))
        self.feature_dim = dims[-1]

    def _check(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dims[0] or not x.is_floating_point():
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"DECAutoencoder takes float vectors of shape (B, {self.dims[0]}); got {shape} "
                             f"(flatten images with .flatten(1) first).")

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B, 10)
        self._check(x)
        for i, layer in enumerate(self.encoder_layers):
            x = layer(x)
            if i < len(self.encoder_layers) - 1:
                x = torch.relu(x)
        return x

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, 10) -> (B, d)
        for i, layer in enumerate(self.decoder_layers):
            z = layer(z)
            if i < len(self.decoder_layers) - 1:
                z = torch.relu(z)
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
