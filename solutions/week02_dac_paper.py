"""Solutions of the exercises in week02_dac/02_dac_paper_walkthrough.ipynb (checked by tests/test_exercises.py)."""
import torch
import torch.nn.functional as F

from sslstudy.methods import dac as D

SIM = torch.tensor([[1.0, 0.9, 0.3, 0.6], [0.9, 1.0, 0.47, 0.2], [0.3, 0.47, 1.0, 0.75], [0.6, 0.2, 0.75, 1.0]])

CASES = {
    "week02_dac_paper.selection_mask": {
        "context": lambda: {"sim": SIM.clone(), "lam": 0.2},
        "solution": lambda sim, lam: (sim >= D.thresholds(lam)[0]) | (sim < D.thresholds(lam)[1]),
        "wrong": lambda sim, lam: sim >= D.thresholds(lam)[0],                       # forgot the 'different' pairs
    },
    "week02_dac_paper.lambda_meet": {
        "context": {},
        "solution": (0.95 - 0.455) / (1 + 0.1),                                     # 0.45
        "wrong": 0.95 - 0.455,                                                       # forgot that l(λ) rises
    },
    "week02_dac_paper.onehot_cosines": {
        "context": lambda: {"clusters": torch.tensor([2, 0, 2, 1, 3, 0]), "k": 4},
        "solution": lambda clusters, k: F.one_hot(clusters, k).float() @ F.one_hot(clusters, k).float().T,
        "wrong": lambda clusters, k: torch.eye(len(clusters)),
    },
}
