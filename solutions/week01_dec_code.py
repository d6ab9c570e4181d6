"""Solutions of the exercises in week01_dec/01_dec_code_analysis.ipynb (checked by tests/test_exercises.py)."""
import torch

Q = torch.tensor([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1]])


def _target(q):
    weight = q**2 / q.sum(0)                      # square sharpens, / f_j balances
    return weight / weight.sum(1, keepdim=True)   # rows sum to 1


CASES = {
    "week01_dec_code.update_fraction": {
        "context": {"interval": 160, "n": 70_000, "batch_size": 256},
        "solution": lambda interval, n, batch_size: interval / (n // batch_size),   # 160 / 273 ≈ 0.586
        "wrong": lambda interval, n, batch_size: (n // batch_size) / interval,
    },
    "week01_dec_code.target_by_hand": {
        "context": lambda: {"q": Q.clone()},
        "solution": lambda q: _target(q),
        "wrong": lambda q: q**2 / (q**2).sum(1, keepdim=True),                     # forgot / f_j
    },
    "week01_dec_code.caffe_scale": {
        "context": {},
        "solution": 0.02 * 255,                                                     # 5.1
        "wrong": 0.02,
    },
}
