"""Solutions of the exercises in week06_moco/06_moco_paper_walkthrough.ipynb (checked by tests/test_exercises.py)."""
import torch

from sslstudy.losses import info_nce_from_logits

CASES = {
    "week06_moco_paper.uniform_loss": {
        "solution": lambda: info_nce_from_logits(torch.zeros(4, 1 + 4096), 0),          # log(4097) ≈ 8.318
        "wrong": lambda: info_nce_from_logits(torch.zeros(4, 4096), 0),                 # log(4096): K, not K + 1
    },
    "week06_moco_paper.key_staleness": {"solution": (50_000 // 512, 4096 / 512), "wrong": (8, 97)},
}
