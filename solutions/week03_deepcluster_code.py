"""Solutions of the exercises in week03_deepcluster/03_deepcluster_code_analysis.ipynb (checked by
tests/test_exercises.py)."""
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import normalized_mutual_info_score


def _whiten(feats):
    xc = feats - feats.mean(0)
    val, vec = torch.linalg.eigh(xc.T @ xc / len(xc))
    val, vec = val.flip(0)[:2], vec.flip(1)[:, :2]
    return F.normalize(xc @ vec / val.sqrt(), dim=1)


CASES = {
    "week03_deepcluster_code.draws_per_cluster": {
        "context": {"assignments": torch.tensor([0] * 600 + [1] * 300 + [4] * 100), "n": 1_000},
        "solution": lambda assignments, n: int(n / len(torch.unique(assignments))) + 1,          # 334
        "wrong": lambda assignments, n: int(n / (int(assignments.max()) + 1)) + 1,                # counts empties
    },
    "week03_deepcluster_code.nmi_consecutive": {
        "context": {"prev": torch.tensor([0, 0, 1, 1, 2, 2, 2, 3]), "curr": torch.tensor([5, 5, 1, 1, 1, 2, 2, 0])},
        "solution": lambda prev, curr: normalized_mutual_info_score(np.asarray(prev), np.asarray(curr)),
        "wrong": lambda prev, curr: float((prev == curr).float().mean()),
    },
    "week03_deepcluster_code.pca_whiten": {
        "context": lambda: {"feats": torch.randn(200, 5, generator=torch.Generator().manual_seed(3))
                            * torch.tensor([5.0, 3.0, 1.0, 0.5, 0.1])},
        "solution": lambda feats: _whiten(feats),
        "wrong": lambda feats: F.normalize((feats - feats.mean(0))[:, :2], dim=1),
    },
}
