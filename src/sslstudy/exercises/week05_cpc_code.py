"""Checkers of the exercises in week05_cpc/05_cpc_code_analysis.ipynb (solutions: solutions/week05_cpc_code.py)."""
from __future__ import annotations

import math

from . import exercise


@exercise("week05_cpc_code.loss_at_chance",
          hint="each step's InfoNCE with equal logits is log(number of candidates) = log(1 + N); cpc_loss sums the "
               "K steps: K * math.log(1 + N).")
def loss_at_chance(answer, K: int, N: int) -> bool:
    value = float(answer)
    if abs(value - K * math.log(N)) < 1e-6:
        raise AssertionError("count the positive too: there are 1 + N candidates per prediction.")
    if abs(value - math.log(1 + N)) < 1e-6:
        raise AssertionError("that is one step; cpc_loss sums the loss over the K steps.")
    return abs(value - K * math.log(1 + N)) < 1e-6


@exercise("week05_cpc_code.receptive_field",
          hint="rf = kernels[0]; jump = strides[0]; for each later layer: rf += (kernel - 1) * jump; jump *= stride. "
               "For 10, 8, 4, 4, 4 and 5, 4, 2, 2, 2 that is 10 + 7·5 + 3·20 + 3·40 + 3·80.")
def receptive_field(answer, kernels, strides) -> bool:
    value = int(answer)
    rf, jump = kernels[0], strides[0]
    for k, s in zip(kernels[1:], strides[1:]):
        rf, jump = rf + (k - 1) * jump, jump * s
    if value == math.prod(strides):
        raise AssertionError("that is the hop between two z_t (the downsampling), not how many samples one z_t sees.")
    if value == sum(kernels):
        raise AssertionError("a later layer's kernel spans several input samples per tap: multiply by the strides below it.")
    return value == rf
