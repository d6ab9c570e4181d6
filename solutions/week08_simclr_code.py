"""Solutions of the exercises in week08_simclr/08_simclr_code_analysis.ipynb (checked by tests/test_exercises.py)."""
import torch

from sslstudy.losses import info_nce_from_logits
from sslstudy.methods.simclr import nt_xent_logits


def _context():
    return {"z1": torch.randn(6, 8, generator=torch.Generator().manual_seed(1)),
            "z2": torch.randn(6, 8, generator=torch.Generator().manual_seed(2)), "tau": 0.5}


def _official_sum(z1, z2, tau):
    logits_a, logits_b, labels = nt_xent_logits(z1, z2, tau)
    return info_nce_from_logits(logits_a, labels) + info_nce_from_logits(logits_b, labels)


CASES = {
    "week08_simclr_code.official_sum": {
        "context": _context,
        "solution": _official_sum,
        "wrong": lambda z1, z2, tau: _official_sum(z1, z2, tau) / 2,      # our mean, not the official sum
    },
    "week08_simclr_code.sqrt_base_lr": {"solution": 0.3 * 4096 / 256 / 4096 ** 0.5, "wrong": 0.3},   # 0.075
    "week08_simclr_code.lars_ratio": {"solution": (0.5, 1.0), "wrong": (0.5, 0.5)},
}
