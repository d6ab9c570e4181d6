"""Solutions of the exercises in week06_moco/06_moco_code_analysis.ipynb (checked by tests/test_exercises.py)."""
import math

import torch


def _chunk(x):
    c = x[4:6]                                                            # chunk 2 of 4 (2 images each)
    return (c - c.mean((0, 2, 3), keepdim=True)) / torch.sqrt(c.var((0, 2, 3), unbiased=False, keepdim=True) + 1e-5)


CASES = {
    "week06_moco_code.key_age": {"solution": 1024 / (2 * 256), "wrong": 1024 / 256},          # 2 steps, not 4
    "week06_moco_code.half_life": {"solution": math.log(0.5) / math.log(0.99), "wrong": 100.0},  # ≈ 69 steps
    "week06_moco_code.split_bn_chunk": {
        "context": lambda: {"x": torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(0))},
        "solution": _chunk,
        "wrong": lambda x: torch.nn.functional.batch_norm(x, None, None, training=True)[4:6],   # the whole batch's BN
    },
}
