"""Solutions of the exercises in week05_cpc/05_cpc_code_analysis.ipynb (checked by tests/test_exercises.py)."""
import math

from sslstudy.methods import cpc


def _rf(kernels, strides):
    rf, jump = kernels[0], strides[0]
    for k, s in zip(kernels[1:], strides[1:]):
        rf, jump = rf + (k - 1) * jump, jump * s
    return rf


CASES = {
    "week05_cpc_code.loss_at_chance": {
        "context": {"K": 12, "N": 16},
        "solution": lambda K, N: K * math.log(1 + N),
        "wrong": lambda K, N: K * math.log(N),                      # forgot the positive among the candidates
    },
    "week05_cpc_code.receptive_field": {
        "context": {"kernels": cpc.KERNELS, "strides": cpc.STRIDES},
        "solution": lambda kernels, strides: _rf(kernels, strides),  # 465
        "wrong": lambda kernels, strides: math.prod(strides),        # 160, the hop
    },
}
