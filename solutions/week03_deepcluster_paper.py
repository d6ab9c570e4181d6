"""Solutions of the exercises in week03_deepcluster/03_deepcluster_paper_walkthrough.ipynb (checked by
tests/test_exercises.py)."""
import math

import torch


def _lloyd(x, c):
    assign = torch.cdist(x, c).argmin(1)
    return torch.stack([x[assign == j].mean(0) if (assign == j).any() else c[j] for j in range(len(c))])


CASES = {
    "week03_deepcluster_paper.lloyd_step": {
        "context": {"x": torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0]]),
                    "c": torch.tensor([[0.0, 0.0], [5.0, 5.0], [20.0, 20.0]])},
        "solution": lambda x, c: _lloyd(x, c),
        "wrong": lambda x, c: c,                                              # no update at all
    },
    "week03_deepcluster_paper.purity": {
        "context": {"assign": torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2]),
                    "labels": torch.tensor([3, 3, 1, 1, 1, 0, 0, 2, 0])},
        "solution": lambda assign, labels: sum(int(torch.bincount(labels[assign == c]).max())
                                               for c in assign.unique()) / len(labels),       # 7 / 9
        "wrong": lambda assign, labels: 1.0,
    },
    "week03_deepcluster_paper.fresh_head_loss": {
        "context": {"k": 10_000},
        "solution": lambda k: math.log(k),
        "wrong": lambda k: math.log10(k),
    },
}
