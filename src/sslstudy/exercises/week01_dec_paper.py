"""Checkers of the exercises in week01_dec/01_dec_paper_walkthrough.ipynb (solutions: solutions/week01_dec_paper.py)."""
from __future__ import annotations

import torch

from . import exercise


def _tensor(answer, shape, what: str) -> torch.Tensor:
    answer = torch.as_tensor(answer, dtype=torch.float64)
    if tuple(answer.shape) != tuple(shape):
        raise AssertionError(f"{what} has the shape {tuple(shape)}; yours is {tuple(answer.shape)}.")
    return answer


def _q(z: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """Eq. 1 with alpha = 1, computed here independently of sslstudy.methods.dec."""
    z, mu = z.double(), mu.double()
    kernel = 1.0 / (1.0 + torch.cdist(z, mu).pow(2))                   # (N, K)
    return kernel / kernel.sum(1, keepdim=True)


def _p(q: torch.Tensor) -> torch.Tensor:
    weight = q.pow(2) / q.sum(0)
    return weight / weight.sum(1, keepdim=True)


@exercise("week01_dec_paper.soft_assignment",
          hint="kernel = 1 / (1 + ||z_i − mu_j||²) for every pair (a (N, K) tensor: torch.cdist(z, mu) ** 2 gives the "
               "squared distances), then divide each row by its sum.")
def soft_assignment(answer, z: torch.Tensor, mu: torch.Tensor) -> bool:
    expected = _q(z, mu)
    answer = _tensor(answer, expected.shape, "q, one row per point and one column per centre,")
    kernel = 1.0 / (1.0 + torch.cdist(z.double(), mu.double()).pow(2))
    if torch.allclose(answer, kernel, atol=1e-5):
        raise AssertionError("that is the kernel before normalising: divide each row by its sum over the centres.")
    unsquared = 1.0 / (1.0 + torch.cdist(z.double(), mu.double()))
    if torch.allclose(answer, unsquared / unsquared.sum(1, keepdim=True), atol=1e-5):
        raise AssertionError("eq. 1 uses the SQUARED distance ||z_i − mu_j||², not the distance.")
    return torch.allclose(answer, expected, atol=1e-5)


@exercise("week01_dec_paper.kl_after_refresh",
          hint="P = eq. 3 of Q (square, divide each column by f_j = q.sum(0), normalise the rows); then "
               "(p * (p / q).log()).sum() — P first: KL(P‖Q), not KL(Q‖P).")
def kl_after_refresh(answer, q: torch.Tensor) -> bool:
    q = q.double()
    p = _p(q)
    expected = float((p * (p / q).log()).sum())
    value = float(torch.as_tensor(answer, dtype=torch.float64).sum()) if isinstance(answer, torch.Tensor) else float(answer)
    if abs(value - float((q * (q / p).log()).sum())) < 1e-6 and abs(value - expected) > 1e-6:
        raise AssertionError("that is KL(Q‖P); DEC's loss is KL(P‖Q) = Σ p log(p / q), the target P first.")
    if abs(value - expected / len(q)) < 1e-6 and abs(value - expected) > 1e-6:
        raise AssertionError("that is the mean over the points; the exercise asks for the sum over i and j.")
    return abs(value - expected) < 1e-6


@exercise("week01_dec_paper.gradient_one_point",
          hint="eq. 4 with α = 1: 2 · Σ_j (1 + ||z_i − mu_j||²)^(−1) (p_ij − q_ij)(z_i − mu_j), with q_ij from eq. 1 "
               "for the same z and mu.")
def gradient_one_point(answer, z: torch.Tensor, mu: torch.Tensor, p: torch.Tensor, i: int = 0) -> bool:
    z_a = z.detach().double().clone().requires_grad_(True)
    p = p.detach().double()
    q = _q(z_a, mu)
    (p * (p.log() - q.log())).sum().backward()                       # eq. 2, P fixed
    expected = z_a.grad[i]
    answer = _tensor(answer, expected.shape, f"∂L/∂z_{i}, one number per dimension of z,")
    if torch.allclose(answer, -expected, atol=1e-5):
        raise AssertionError("the sign is flipped: eq. 4 has (p_ij − q_ij)(z_i − mu_j), not (q_ij − p_ij).")
    return torch.allclose(answer, expected, atol=1e-5)
