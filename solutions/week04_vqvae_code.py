"""Solutions of the exercises in week04_vqvae/04_vqvae_code_analysis.ipynb (checked by tests/test_exercises.py)."""
import math

import torch
import torch.nn.functional as F


def _perplexity(indices, num_codes):
    p = torch.bincount(indices.flatten(), minlength=num_codes).float()
    p = p / p.sum()
    return math.exp(float(-(p * torch.log(p + 1e-10)).sum()))


def _ema(N, m, z, k, gamma, eps):
    K = len(N)
    onehot = F.one_hot(k, K).float()                                     # (n, K)
    N = gamma * N + (1 - gamma) * onehot.sum(0)
    m = gamma * m + (1 - gamma) * onehot.T @ z
    n = N.sum()
    return m / ((N + eps) / (n + K * eps) * n)[:, None]


def _ema_context():
    g = torch.Generator().manual_seed(1)
    return {"N": torch.rand(4, generator=g) * 3, "m": torch.randn(4, 2, generator=g), "z": torch.randn(6, 2, generator=g),
            "k": torch.tensor([0, 0, 1, 3, 3, 3]), "gamma": 0.9, "eps": 0.1}


CASES = {
    "week04_vqvae_code.perplexity": {
        "context": lambda: {"indices": torch.tensor([[0, 0, 1], [2, 0, 1]]), "num_codes": 4},
        "solution": lambda indices, num_codes: _perplexity(indices, num_codes),
        "wrong": lambda indices, num_codes: float(len(torch.unique(indices))),      # codes used, not perplexity
    },
    "week04_vqvae_code.ema_step": {
        "context": _ema_context,
        "solution": lambda N, m, z, k, gamma, eps: _ema(N, m, z, k, gamma, eps),
        "wrong": lambda N, m, z, k, gamma, eps: m,                                   # no update at all
    },
    "week04_vqvae_code.compression": {
        "context": {},
        "solution": 784 * 8 / (49 * math.log2(32)),                                 # 25.6
        "wrong": 784 / (49 * math.log2(32)),                                         # forgot 8 bits per pixel
    },
}
