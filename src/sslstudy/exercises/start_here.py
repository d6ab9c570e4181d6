"""Checkers of ``notebooks/00_start_here.ipynb``: the evaluation protocol computed by hand."""
from __future__ import annotations

import numpy as np
import torch

from . import exercise


def _as_array(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@exercise("start_here.knn_vote", hint="each of the k neighbours adds exp(cos / t) to the score of its own class; "
                                      "a class no neighbour has scores 0 (e.g. torch.zeros(C).index_add_(0, "
                                      "labels, (sims / t).exp())).")
def knn_vote(answer, sims, labels, t, num_classes) -> bool:
    """The weighted kNN class scores (C,) of one query: score_c = Σ_{neighbours i with y_i = c} exp(cos_i / t)."""
    got = _as_array(answer).astype(np.float64).ravel()
    if got.shape != (num_classes,):
        raise AssertionError(f"give one score per class: {num_classes} numbers, not an array of shape {got.shape}.")
    want = np.zeros(num_classes)
    np.add.at(want, _as_array(labels).astype(np.int64), np.exp(_as_array(sims).astype(np.float64) / t))
    return bool(np.allclose(got, want, rtol=1e-4, atol=1e-6))


@exercise("start_here.hungarian_acc", hint="ACC matches clusters to classes one-to-one: every class may be used "
                                           "once (scipy.optimize.linear_sum_assignment on -counts), then ACC = "
                                           "matched counts / all points.")
def hungarian_acc(answer, counts) -> bool:
    """ACC of the contingency table ``counts[cluster, class]`` with the best one-to-one map."""
    from scipy.optimize import linear_sum_assignment

    counts = _as_array(counts)
    rows, cols = linear_sum_assignment(-counts)
    want = counts[rows, cols].sum() / counts.sum()
    value = float(answer)
    if value > 1.0 or value < 0.0:
        raise AssertionError(f"ACC is a fraction in [0, 1]; {value!r} is not (divide by the number of points).")
    return abs(value - want) < 1e-6
