"""Checkers of the exercises in week01_dec/01_dec_code_analysis.ipynb (solutions: solutions/week01_dec_code.py)."""
from __future__ import annotations

import torch

from . import exercise


@exercise("week01_dec_code.update_fraction",
          hint="an epoch of full batches is n // batch_size iterations; the fraction is interval / that.")
def update_fraction(answer, interval: int = 160, n: int = 70_000, batch_size: int = 256) -> bool:
    value = float(answer)
    if value > 1:
        raise AssertionError(f"{value:.3g} is more than one epoch: divide the interval by the iterations per epoch, "
                             "not the other way round.")
    return abs(value - interval / (n // batch_size)) < 2e-3


@exercise("week01_dec_code.target_by_hand",
          hint="square Q, divide each column by its soft frequency f_j = q.sum(0), then normalise each row to sum 1.")
def target_by_hand(answer, q: torch.Tensor) -> bool:
    answer = torch.as_tensor(answer, dtype=q.dtype)
    if answer.shape != q.shape:
        raise AssertionError(f"P has the shape of Q, {tuple(q.shape)}; yours is {tuple(answer.shape)}.")
    weight = q.pow(2) / q.sum(0)                                       # (N, K) eq. 3 before normalising
    sharpened_only = q.pow(2) / q.pow(2).sum(1, keepdim=True)
    if torch.allclose(answer, sharpened_only, atol=1e-5) and not torch.allclose(sharpened_only, weight / weight.sum(1, keepdim=True)):
        raise AssertionError("you squared and normalised, but forgot to divide by the cluster frequency f_j.")
    return torch.allclose(answer, weight / weight.sum(1, keepdim=True), atol=1e-5)


@exercise("week01_dec_code.caffe_scale",
          hint="ours is pixel / 255, Caffe's pixel × 0.02: their ratio is 0.02 × 255.")
def caffe_scale(answer, images=None) -> bool:
    return abs(float(answer) - 0.02 * 255) < 1e-6
