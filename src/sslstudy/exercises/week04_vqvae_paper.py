"""Checkers of the exercises in week04_vqvae/04_vqvae_paper_walkthrough.ipynb (solutions: solutions/week04_vqvae_paper.py)."""
from __future__ import annotations

import math

import torch

from . import exercise


@exercise("week04_vqvae_paper.nearest_codes",
          hint="d = points.pow(2).sum(1, keepdim=True) - 2 * points @ codebook.T + codebook.pow(2).sum(1); "
               "answer = d.argmin(1) (argmin: the smallest distance, not the largest).")
def nearest_codes(answer, points: torch.Tensor, codebook: torch.Tensor) -> bool:
    answer = torch.as_tensor(answer)
    if answer.shape != (len(points),):
        raise AssertionError(f"one index per point: shape ({len(points)},); yours is {tuple(answer.shape)}.")
    d = torch.cdist(points, codebook)
    if torch.equal(answer.long(), d.argmax(1)):
        raise AssertionError("those are the farthest codes: use argmin.")
    return torch.equal(answer.long(), d.argmin(1))


@exercise("week04_vqvae_paper.kl_constant",
          hint="each position contributes log K nats (q one-hot, p uniform); the positions are independent: h·w·log K.")
def kl_constant(answer, h: int, w: int, K: int) -> bool:
    value = float(answer)
    if abs(value - h * w * math.log2(K)) < 1e-6:
        raise AssertionError("that is in bits; the question asks for nats (natural log).")
    if abs(value - math.log(K)) < 1e-6:
        raise AssertionError("that is one position; the image has h·w of them.")
    return abs(value - h * w * math.log(K)) < 1e-6
