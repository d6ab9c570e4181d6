"""Checkers of the exercises in week04_vqvae/04_vqvae_code_analysis.ipynb (solutions: solutions/week04_vqvae_code.py)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import exercise


@exercise("week04_vqvae_code.perplexity",
          hint="p = torch.bincount(indices.flatten(), minlength=num_codes).float(); p = p / p.sum(); "
               "then math.exp(-(p * torch.log(p + 1e-10)).sum()).")
def perplexity(answer, indices: torch.Tensor, num_codes: int) -> bool:
    from sslstudy.methods.vqvae import codes_used, perplexity_of

    value = float(answer)
    perplexity = float(perplexity_of(indices, num_codes))
    entropy = math.log(perplexity)
    if abs(value - entropy) < 1e-4 and abs(entropy - perplexity) > 1e-3:
        raise AssertionError("that is the entropy (in nats); the perplexity is its exponential.")
    if abs(value - codes_used(indices, num_codes)) < 1e-6 and abs(value - perplexity) > 1e-3:
        raise AssertionError("that is the number of codes used; the perplexity weighs each code by its frequency.")
    return abs(value - perplexity) < 1e-3 * max(1.0, perplexity)


@exercise("week04_vqvae_code.ema_step",
          hint="counts n_k = one_hot(k, K).sum(0), sums = one_hot(k, K).T @ z; N = γN + (1−γ)n, m = γm + (1−γ)sums; "
               "N_s = (N + ε) / (N.sum() + Kε) · N.sum(); codebook = m / N_s[:, None].")
def ema_step(answer, N, m, z, k, gamma, eps) -> bool:
    answer = torch.as_tensor(answer, dtype=torch.float32)
    if answer.shape != m.shape:
        raise AssertionError(f"the codebook has the shape of m, {tuple(m.shape)}; yours is {tuple(answer.shape)}.")
    K = len(N)
    onehot = F.one_hot(k, K).float()
    unsmoothed = (gamma * m + (1 - gamma) * onehot.T @ z) / (gamma * N + (1 - gamma) * onehot.sum(0))[:, None]
    if torch.allclose(answer, unsmoothed, atol=1e-5):
        raise AssertionError("close: now Laplace-smooth the counts before dividing (Sonnet's ε).")
    from sslstudy.methods.vqvae import VectorQuantizerEMA

    vq = VectorQuantizerEMA(num_codes=K, code_dim=m.shape[1], decay=gamma, eps=eps, debias=False)   # as the exercise
    vq.ema_count.copy_(N)
    vq.ema_sum.copy_(m)
    vq.ema_update(z, k)                                                   # the course's own EMA step
    return torch.allclose(answer, vq.embedding, atol=1e-5)


@exercise("week04_vqvae_code.compression",
          hint="codes: 7 · 7 · log2(32) = 245 bits; pixels: 784 · 8 = 6,272 bits; the factor is 6272 / 245.")
def compression(answer) -> bool:
    value = float(answer)
    if abs(value - 784 / 245) < 1e-3:
        raise AssertionError("each raw pixel takes 8 bits, not 1.")
    if abs(value - 245 / 6272) < 1e-4:
        raise AssertionError("upside down: raw bits divided by code bits.")
    return abs(value - 6272 / 245) < 1e-3
