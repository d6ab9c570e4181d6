"""Projection and prediction heads: the small MLPs that sit between the backbone and the loss.

Each class follows one official definition; the defaults are the paper's widths (for a ResNet-50, 2048-d
features) and every width is a parameter, so small models fit:

- :class:`ProjectionHead`: SimCLR's g, google-research/simclr @ 383d414 ``model_util.py``
  ``projection_head`` (https://github.com/google-research/simclr/blob/383d414/model_util.py). Moved unchanged
  from ``sslstudy.methods.simclr`` (same behaviour, same ``state_dict`` keys ``net.0.weight``, …).
- :class:`MoCoV2Head`: MoCo v2's MLP, facebookresearch/moco @ 7397dfe ``moco/builder.py`` (``mlp=True``: the
  encoder's ``fc`` becomes Linear-ReLU-fc)
  (https://github.com/facebookresearch/moco/blob/7397dfe/moco/builder.py).
- :class:`BYOLProjector`, :class:`BYOLPredictor`: google-deepmind/deepmind-research @ 500ffd8
  ``byol/utils/networks.py`` ``MLP`` (Linear-BN-ReLU-Linear, the last Linear without bias)
  (https://github.com/google-deepmind/deepmind-research/blob/500ffd8/byol/utils/networks.py).
- :class:`SimSiamProjector`, :class:`SimSiamPredictor`: facebookresearch/simsiam @ 39ac33e
  ``simsiam/builder.py`` (https://github.com/facebookresearch/simsiam/blob/39ac33e/simsiam/builder.py).

Every head keeps its layers in ``self.net`` (an ``nn.Sequential``) and has an ``out_dim`` attribute;
``forward`` maps (B, in_dim) → (B, out_dim).
"""

import torch
import torch.nn as nn


class ProjectionHead(nn.Module):
    """g(·) of the paper: z = W2 σ(W1 h), the 2-layer MLP of SimCLR v1, 128-d output.

    As ``model_util.projection_head`` (``proj_head_mode='nonlinear'``): every linear layer is followed by BN
    (the hidden one with bias/centre and ReLU, the last one with neither); ``num_layers=2`` is the v1 paper,
    the code's default of 3 is SimCLR v2. ``hidden_dim`` defaults to the input width
    (``mid_dim = hiddens.shape[-1]``).
    """

    def __init__(self, in_dim: int, hidden_dim: int | None = None, out_dim: int = 128,
                 num_layers: int = 2, use_bn: bool = True):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers={num_layers!r} is not allowed: the projection head needs at "
                             f"least 1 layer.")
        hidden_dim = hidden_dim or in_dim
        layers, d = [], in_dim
        for j in range(num_layers):
            last = j == num_layers - 1
            dim = out_dim if last else hidden_dim
            layers.append(nn.Linear(d, dim, bias=not use_bn))
            if use_bn:
                layers.append(nn.BatchNorm1d(dim, affine=True) if not last else _BatchNormNoCentre(dim))
            if not last:
                layers.append(nn.ReLU(inplace=True))
            d = dim
        self.net = nn.Sequential(*layers)
        self.out_dim = out_dim

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, in_dim) -> (B, out_dim)
        return self.net(h)


class _BatchNormNoCentre(nn.BatchNorm1d):
    """BN with a scale but no shift (``center=False`` on the head's last layer, whose output has no
    bias)."""

    def __init__(self, dim: int):
        super().__init__(dim, affine=True)
        self.bias.requires_grad_(False)


def _check_dims(cls: str, **dims) -> None:
    for name, value in dims.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{cls}: {name}={value!r} is not allowed: it must be a positive integer.")


class _Head(nn.Module):
    net: nn.Sequential

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in_dim) -> (B, out_dim)
        return self.net(x)


class MoCoV2Head(_Head):
    """MoCo v2's MLP head: Linear(in, hidden) → ReLU → Linear(hidden, out), both with bias, no BN.

    In ``moco/builder.py`` (``mlp=True``) the ResNet's ``fc`` (2048 → 128) is replaced by
    ``Sequential(Linear(2048, 2048), ReLU(), fc)``. Paper (MoCo v2, Chen et al. 2020): 2048 → 2048 → 128. The
    query and the key encoder each have one (the key's copy follows by EMA).
    """

    def __init__(self, in_dim: int = 2048, hidden_dim: int = 2048, out_dim: int = 128):
        super().__init__()
        _check_dims("MoCoV2Head", in_dim=in_dim, hidden_dim=hidden_dim, out_dim=out_dim)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True),
                                 nn.Linear(hidden_dim, out_dim))


class BYOLProjector(_Head):
    """BYOL's projector g: Linear(in, hidden) → BN → ReLU → Linear(hidden, out, no bias).

    ``byol/utils/networks.py`` ``MLP``: the hidden Linear has a bias, BN has scale and offset (Haiku's decay
    0.9 and eps 1e-5 are PyTorch's momentum 0.1 and eps 1e-5), the output Linear has no bias. Paper (Grill et
    al. 2020, §3.3): 4096 hidden, 256 out, on 2048-d ResNet-50 features.
    """

    def __init__(self, in_dim: int = 2048, hidden_dim: int = 4096, out_dim: int = 256):
        super().__init__()
        _check_dims(type(self).__name__, in_dim=in_dim, hidden_dim=hidden_dim, out_dim=out_dim)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.BatchNorm1d(hidden_dim),
                                 nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim, bias=False))


class BYOLPredictor(BYOLProjector):
    """BYOL's predictor q: the same MLP as the projector, applied to its 256-d output (256 → 4096 → 256).

    Only the online network has it; the target network stops at the projector.
    """

    def __init__(self, in_dim: int = 256, hidden_dim: int = 4096, out_dim: int = 256):
        super().__init__(in_dim, hidden_dim, out_dim)


class SimSiamProjector(_Head):
    """SimSiam's projector: ``num_layers`` × Linear, every one followed by BN, the last BN without affine.

    ``simsiam/builder.py``: Linear(in, in, no bias) → BN → ReLU → Linear(in, in, no bias) → BN → ReLU →
    Linear(in, out) → BN(out, affine=False); the last Linear's bias exists but is frozen
    (``requires_grad = False``: a BN follows). Paper (Chen & He 2021): 3 layers, 2048 wide, 2048 out on
    ImageNet; its CIFAR setup uses 2 layers. ``hidden_dim`` defaults to ``in_dim`` (the official
    ``prev_dim``).
    """

    def __init__(self, in_dim: int = 2048, hidden_dim: int | None = None, out_dim: int = 2048,
                 num_layers: int = 3):
        super().__init__()
        hidden_dim = in_dim if hidden_dim is None else hidden_dim
        _check_dims("SimSiamProjector", in_dim=in_dim, hidden_dim=hidden_dim, out_dim=out_dim,
                    num_layers=num_layers)
        self.in_dim, self.out_dim = in_dim, out_dim
        layers, d = [], in_dim
        for _ in range(num_layers - 1):
            layers += [nn.Linear(d, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim),
                       nn.ReLU(inplace=True)]
            d = hidden_dim
        last = nn.Linear(d, out_dim)
        last.bias.requires_grad_(False)              # builder.py: no use for a bias that BN follows
        self.net = nn.Sequential(*layers, last, nn.BatchNorm1d(out_dim, affine=False))


class SimSiamPredictor(_Head):
    """SimSiam's predictor h: Linear(dim, pred_dim, no bias) → BN → ReLU → Linear(pred_dim, dim).

    ``simsiam/builder.py`` with ``dim=2048``, ``pred_dim=512``: the paper's §3 makes h a bottleneck (its
    ablation is in the supplement). The output Linear has a bias and neither BN nor ReLU. The official recipe
    trains it at a constant lr (``--fix-pred-lr``; here ``fixed_lr_groups`` of
    :func:`sslstudy.optim.warmup_cosine`).
    """

    def __init__(self, in_dim: int = 2048, hidden_dim: int = 512, out_dim: int | None = None):
        super().__init__()
        out_dim = in_dim if out_dim is None else out_dim
        _check_dims("SimSiamPredictor", in_dim=in_dim, hidden_dim=hidden_dim, out_dim=out_dim)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim),
                                 nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim))
