"""Solutions of the exercises in week05_cpc/05_cpc_paper_walkthrough.ipynb (checked by tests/test_exercises.py)."""
import math

import torch

LOGITS = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.1, 1.5, 0.3, -0.2], [1.0, 1.0, 1.0, 1.0]])

CASES = {
    "week05_cpc_paper.gaussian_mi": {
        "context": {"rho": 0.8, "d": 3},
        "solution": lambda rho, d: -0.5 * d * math.log(1 - rho ** 2),           # 1.5326 nats
        "wrong": lambda rho, d: -0.5 * math.log(1 - rho ** 2),                  # one pair only
    },
    "week05_cpc_paper.candidates_needed": {
        "context": {"rho": 0.99, "d": 4},
        "solution": lambda rho, d: math.ceil(math.exp(-0.5 * d * math.log(1 - rho ** 2))),   # 2,526
        "wrong": lambda rho, d: math.ceil(math.exp(-0.5 * math.log(1 - rho ** 2))),          # one dimension: 51
    },
    "week05_cpc_paper.positive_probability": {
        "context": lambda: {"logits": LOGITS.clone()},
        "solution": lambda logits: logits.softmax(dim=1)[:, 0],
        "wrong": lambda logits: logits.softmax(dim=0)[:, 0],                     # the wrong axis (CDCK2, #19)
    },
}
