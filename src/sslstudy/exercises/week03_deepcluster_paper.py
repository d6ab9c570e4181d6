"""Checkers of the exercises in week03_deepcluster/03_deepcluster_paper_walkthrough.ipynb (solutions:
solutions/week03_deepcluster_paper.py)."""
from __future__ import annotations

import math

import torch

from . import exercise


@exercise("week03_deepcluster_paper.lloyd_step",
          hint="assign = torch.cdist(x, c).argmin(1); then for each j: x[assign == j].mean(0) if any point is "
               "assigned to j, else c[j].")
def lloyd_step(answer, x: torch.Tensor, c: torch.Tensor) -> bool:
    a = torch.as_tensor(answer).float()
    if a.shape != c.shape:
        raise AssertionError(f"the answer must have the shape of the centroids {tuple(c.shape)}; got {tuple(a.shape)}.")
    assign = torch.cdist(x, c).argmin(1)
    ref = torch.stack([x[assign == j].mean(0) if (assign == j).any() else c[j] for j in range(len(c))])
    if torch.isnan(a).any():
        raise AssertionError("a centroid with no point must keep its old value (the mean of nothing is NaN).")
    return bool(torch.allclose(a, ref, atol=1e-5))


@exercise("week03_deepcluster_paper.purity",
          hint="sum(torch.bincount(labels[assign == c]).max() for c in assign.unique()) / len(labels).")
def purity(answer, assign: torch.Tensor, labels: torch.Tensor) -> bool:
    value = float(answer)
    ref = sum(int(torch.bincount(labels[assign == c]).max()) for c in assign.unique()) / len(labels)
    per_cluster = float(torch.tensor([float(torch.bincount(labels[assign == c]).max()) / int((assign == c).sum())
                                      for c in assign.unique()]).mean())
    if abs(value - per_cluster) < 1e-9 and abs(per_cluster - ref) > 1e-9:
        raise AssertionError("that averages the clusters' purities; weigh each cluster by its size (sum the counts, "
                             "then divide by the number of images).")
    return abs(value - ref) < 1e-9


@exercise("week03_deepcluster_paper.fresh_head_loss",
          hint="equal logits give the uniform distribution 1/k; the cross-entropy is -log(1/k) = log(k).")
def fresh_head_loss(answer, k: int) -> bool:
    value = float(answer)
    if abs(value - math.log10(k)) < 1e-6:
        raise AssertionError("the cross-entropy uses the natural logarithm (torch's F.cross_entropy), not log10.")
    return abs(value - math.log(k)) < 1e-4
