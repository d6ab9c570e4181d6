"""Solutions of notebooks/00_start_here.ipynb's exercises (kept out of the learner's view)."""
import numpy as np
import torch


def _vote_context():
    g = torch.Generator().manual_seed(0)
    sims = torch.sort(torch.rand(20, generator=g) * 0.5 + 0.4, descending=True).values   # (k,) cosines
    labels = torch.randint(0, 4, (20,), generator=g)                                      # (k,) neighbour classes
    return {"sims": sims, "labels": labels, "t": 0.1, "num_classes": 5}


COUNTS = np.array([[5, 30, 2], [25, 4, 1], [3, 20, 10]])   # counts[cluster, class]

CASES = {
    "start_here.knn_vote": {
        "context": _vote_context,
        "solution": lambda sims, labels, t, num_classes: torch.zeros(num_classes).index_add_(0, labels, (sims / t).exp()),
        # a plain majority vote (every neighbour weighs 1): what t -> infinity gives
        "wrong": lambda sims, labels, t, num_classes: torch.bincount(labels, minlength=num_classes).float(),
    },
    "start_here.hungarian_acc": {
        "context": {"counts": COUNTS},
        "solution": (30 + 25 + 10) / 100,
        "wrong": (30 + 25 + 20) / 100,   # each cluster to its largest class: many-to-one, not a matching
    },
}
