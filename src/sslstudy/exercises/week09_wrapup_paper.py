"""Checkers for the exercises of ``week09_wrapup/09_wrapup_paper_walkthrough.ipynb`` (solutions: ``solutions/``)."""
import math

import torch

from . import exercise


def _as_float(answer) -> float:
    if isinstance(answer, torch.Tensor):
        if answer.numel() != 1:
            raise AssertionError(f"a single number is expected, got a tensor of shape {tuple(answer.shape)}")
        return float(answer.item())
    value = float(answer)
    if not math.isfinite(value):
        raise AssertionError(f"the answer {value} is not a finite number")
    return value


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True)


@exercise("week09_wrapup_paper.byol_from_simsiam",
          hint="per pair, BYOL's ‖p̄ − z̄‖² = 2 − 2cos and SimSiam's D = −cos; two views summed and averaged over the "
               "batch: 4 − 2(mean cos₁ + mean cos₂) = 4 + 4 · ls")
def byol_from_simsiam(answer, p1, p2, z1, z2) -> bool:
    """BYOL's L + L̃ of the same tensors, computed here from its definition (squared distance of unit vectors)."""
    expected = (((_unit(p1.double()) - _unit(z2.double())) ** 2).sum(1)
                + ((_unit(p2.double()) - _unit(z1.double())) ** 2).sum(1)).mean().item()
    return abs(_as_float(answer) - expected) < 1e-4


@exercise("week09_wrapup_paper.ema_at",
          hint="τ_k = 1 − (1 − τ_base) · (cos(π k / K) + 1) / 2")
def ema_at(answer, base_ema: float, k: int, max_steps: int) -> bool:
    """BYOL §3.2's τ_k, computed here in closed form."""
    expected = 1 - (1 - base_ema) * (math.cos(math.pi * k / max_steps) + 1) / 2
    return abs(_as_float(answer) - expected) < 1e-9


@exercise("week09_wrapup_paper.rank_one_std",
          hint="z_i/‖z_i‖ = sign(s_i) · v/‖v‖: each channel c takes two values ±v_c/‖v‖; "
               "(F.normalize(s[:, None] * v, dim=1)).std(0).mean()")
def rank_one_std(answer, s: torch.Tensor, v: torch.Tensor) -> bool:
    """The std signal of a rank-one output, computed here through the sign identity."""
    sign = torch.sign(s.double())
    expected = (v.double().abs() / v.double().norm()).mean().item() * sign.std().item()
    return abs(_as_float(answer) - expected) < 1e-5
