"""Checkers of the exercises in week03_deepcluster/03_deepcluster_code_analysis.ipynb (solutions:
solutions/week03_deepcluster_code.py)."""
from __future__ import annotations

import numpy as np
import torch

from . import exercise


@exercise("week03_deepcluster_code.draws_per_cluster",
          hint="count the non-empty clusters (len(torch.unique(assignments))), then int(n / that) + 1.")
def draws_per_cluster(answer, assignments: torch.Tensor, n: int) -> bool:
    value = int(answer)
    nonempty = len(torch.unique(assignments))
    k_all = int(assignments.max()) + 1
    if value == int(n / k_all) + 1 and k_all != nonempty:
        raise AssertionError("empty clusters are skipped: divide by the number of NON-empty clusters.")
    if value == int(n / nonempty):
        raise AssertionError("the official code adds one: int(N / n_nonempty) + 1 (then cuts the list to N).")
    return value == int(n / nonempty) + 1


@exercise("week03_deepcluster_code.nmi_consecutive",
          hint="from sklearn.metrics import normalized_mutual_info_score; "
               "normalized_mutual_info_score(prev.numpy(), curr.numpy()).")
def nmi_consecutive(answer, prev: torch.Tensor, curr: torch.Tensor) -> bool:
    from sklearn.metrics import normalized_mutual_info_score

    value = float(answer)
    if abs(value - float((prev == curr).float().mean())) < 1e-9:
        raise AssertionError("cluster indices are arbitrary names: compare partitions with NMI, not index equality.")
    return abs(value - float(normalized_mutual_info_score(np.asarray(prev), np.asarray(curr)))) < 1e-6


@exercise("week03_deepcluster_code.pca_whiten",
          hint="xc = feats - feats.mean(0); cov = xc.T @ xc / len(xc); val, vec = torch.linalg.eigh(cov) (ascending: "
               "take the last 2, largest first); z = xc @ vec / val.sqrt(); then F.normalize(z, dim=1).")
def pca_whiten(answer, feats: torch.Tensor) -> bool:
    a = torch.as_tensor(answer).double()
    if a.shape != (len(feats), 2):
        raise AssertionError(f"the answer must have shape ({len(feats)}, 2); got {tuple(a.shape)}.")
    xc = feats.double() - feats.double().mean(0)
    val, vec = torch.linalg.eigh(xc.T @ xc / len(xc))
    val, vec = val.flip(0)[:2], vec.flip(1)[:, :2]
    ref = torch.nn.functional.normalize(xc @ vec / val.sqrt(), dim=1)               # (N, 2)
    plain = torch.nn.functional.normalize(xc @ vec, dim=1)
    close = all(min((a[:, j] - s * ref[:, j]).abs().max() for s in (1, -1)) < 1e-4 for j in range(2))
    if not close and all(min((a[:, j] - s * plain[:, j]).abs().max() for s in (1, -1)) < 1e-4 for j in range(2)):
        raise AssertionError("that is PCA without whitening: divide each coordinate by sqrt(its eigenvalue) before "
                             "the L2 normalisation.")
    return close
