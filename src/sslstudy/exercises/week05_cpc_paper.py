"""Checkers of the exercises in week05_cpc/05_cpc_paper_walkthrough.ipynb (solutions: solutions/week05_cpc_paper.py)."""
from __future__ import annotations

import math

import torch

from . import exercise


@exercise("week05_cpc_paper.gaussian_mi",
          hint="one pair with correlation ρ carries −½·log(1 − ρ²) nats; d independent pairs carry d times that: "
               "-0.5 * d * math.log(1 - rho ** 2).")
def gaussian_mi(answer, rho: float, d: int) -> bool:
    value = float(answer)
    one = -0.5 * math.log(1 - rho ** 2)
    if abs(value - one) < 1e-6 and d != 1:
        raise AssertionError("that is one pair; the d pairs are independent, so their informations add.")
    if abs(value - d * one / math.log(2)) < 1e-6:
        raise AssertionError("that is in bits; the course (and the paper's log) uses nats: the natural log.")
    return abs(value - d * one) < 1e-6


@exercise("week05_cpc_paper.candidates_needed",
          hint="the estimate log N − L_N is at most log N, so N must satisfy log N ≥ I with I = −(d/2)·log(1 − ρ²): "
               "math.ceil(math.exp(I)).")
def candidates_needed(answer, rho: float, d: int) -> bool:
    mi = -0.5 * d * math.log(1 - rho ** 2)
    need = math.ceil(math.exp(mi))
    value = float(answer)
    if abs(value - math.exp(mi)) < 1e-6 and value != need:
        raise AssertionError("N counts candidates: round up to the next integer.")
    if abs(value - math.ceil(math.exp(-0.5 * math.log(1 - rho ** 2)))) < 1e-6:
        raise AssertionError("that is for one dimension; here d pairs carry d times the information.")
    return value == need


@exercise("week05_cpc_paper.positive_probability",
          hint="eq. 4 normalises over the candidates of one prediction, the columns: logits.softmax(dim=1)[:, 0].")
def positive_probability(answer, logits: torch.Tensor) -> bool:
    answer = torch.as_tensor(answer, dtype=logits.dtype)
    if answer.shape != (logits.shape[0],):
        raise AssertionError(f"one probability per prediction (row): shape ({logits.shape[0]},); yours is "
                             f"{tuple(answer.shape)}.")
    if torch.allclose(answer, logits.softmax(dim=0)[:, 0], atol=1e-6):
        raise AssertionError("that normalises over the predictions (dim 0), the bug of jefflai108's CDCK2 (#19); "
                             "the candidates of one prediction are its columns.")
    return torch.allclose(answer, logits.softmax(dim=1)[:, 0], atol=1e-6)
