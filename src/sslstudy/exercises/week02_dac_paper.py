"""Checkers of the exercises in week02_dac/02_dac_paper_walkthrough.ipynb (solutions: solutions/week02_dac_paper.py)."""
from __future__ import annotations

import torch

from . import exercise


@exercise("week02_dac_paper.selection_mask",
          hint="u, l = thresholds(lam); the mask is (sim >= u) | (sim < l): selected as 'same' or as 'different'.")
def selection_mask(answer, sim: torch.Tensor, lam: float) -> bool:
    from sslstudy.methods.dac import select_pairs, thresholds

    answer = torch.as_tensor(answer)
    if answer.shape != sim.shape:
        raise AssertionError(f"the mask has the shape of sim, {tuple(sim.shape)}; yours is {tuple(answer.shape)}.")
    upper, lower = thresholds(lam)
    if torch.equal(answer.bool(), sim >= upper):
        raise AssertionError("that is only the pairs selected as 'same'; the mask also holds those below l(λ).")
    if torch.equal(answer.bool(), (sim > upper) | (sim <= lower)) and not torch.equal(sim > upper, sim >= upper):
        raise AssertionError("eq. 6 selects 'same' with ≥ u(λ) and 'different' with < l(λ).")
    return torch.equal(answer.bool(), select_pairs(sim, upper, lower)[1])


@exercise("week02_dac_paper.lambda_meet",
          hint="solve 0.95 − λ = 0.455 + 0.1·λ for λ: (0.95 − 0.455) / (1 + 0.1).")
def lambda_meet(answer) -> bool:
    value = float(answer)
    if abs(value - 0.495) < 1e-6:
        raise AssertionError("0.495 is where u(λ) reaches 0.455, but l(λ) rises too: divide by 1 + 0.1.")
    return abs(value - 0.45) < 1e-6


@exercise("week02_dac_paper.onehot_cosines",
          hint="l = torch.nn.functional.one_hot(clusters, k).float() (already unit length and non-negative); "
               "the cosines are l @ l.T.")
def onehot_cosines(answer, clusters: torch.Tensor, k: int) -> bool:
    answer = torch.as_tensor(answer, dtype=torch.float32)
    n = len(clusters)
    if answer.shape != (n, n):
        raise AssertionError(f"the cosine matrix is ({n}, {n}), one entry per pair; yours is {tuple(answer.shape)}.")
    expected = (clusters[:, None] == clusters[None, :]).float()
    return torch.allclose(answer, expected)
