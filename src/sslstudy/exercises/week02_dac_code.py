"""Checkers of the exercises in week02_dac/02_dac_code_analysis.ipynb (solutions: solutions/week02_dac_code.py)."""
from __future__ import annotations

import torch

from . import exercise


@exercise("week02_dac_code.star_loss",
          hint="targets r = (sim > th) as 0/1 floats for every pair (no pair is ignored in DAC*), then "
               "((sim - r) ** 2).mean().")
def star_loss(answer, sim: torch.Tensor, th: float) -> bool:
    value = float(torch.as_tensor(answer))
    r = (sim > th).to(sim.dtype)
    if abs(value - float(((sim - r) ** 2).sum())) < 1e-5:
        raise AssertionError("that is the sum over the pairs; Keras' myLoss takes the mean (K.mean).")
    if abs(value - float((sim - r).abs().mean())) < 1e-6:
        raise AssertionError("square the differences: myLoss is a mean squared error.")
    return abs(value - float(((sim - r) ** 2).mean())) < 1e-6


@exercise("week02_dac_code.official_steps",
          hint="70,000 // 1,000 chunks; each pass over a chunk of 1,000 in batches of 128 is ceil(1000 / 128) = 8 "
               "batches (7 of 128 and one of 104); times 5 passes.")
def official_steps(answer) -> bool:
    value = int(answer)
    if value == 70 * 5 * (1000 // 128):
        raise AssertionError("Keras' iterator keeps the last, smaller batch of each pass: 8 batches, not 7.")
    if value == 70_000 // 128:
        raise AssertionError("that is one plain pass over 70,000 images; DAC* trains 5 passes over each chunk.")
    return value == 70 * 5 * 8


@exercise("week02_dac_code.batch_dependence",
          hint="p50 = predict_clusters(model, x, 50); p128 = predict_clusters(model, x, 128); "
               "(p50 != p128).float().mean().")
def batch_dependence(answer, model, x: torch.Tensor) -> bool:
    from sslstudy.methods.dac import predict_clusters

    value = float(answer)
    p50, p128 = predict_clusters(model, x, 50), predict_clusters(model, x, 128)
    changed = float((p50 != p128).float().mean())
    if abs(value - (1 - changed)) < 1e-9 and changed != 0.5:
        raise AssertionError("that is the fraction that stays the same; the exercise asks for the one that changes.")
    return abs(value - changed) < 1e-9
