"""Checkers of ``notebooks/_template_paper_walkthrough.ipynb``: EXAMPLES of the exercise format.

A week's walkthrough replaces these with its own module ``weekNN_<method>_paper.py`` (ids
``"weekNN_<method>_paper.<name>"``) and its solutions in ``solutions/weekNN_<method>_paper.py``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import exercise


@exercise("template_paper.chance_loss", hint="with equal similarities the softmax over M candidates gives the "
                                             "positive probability 1/M, so the loss is -log(1/M) = log(M).")
def chance_loss(answer, num_candidates) -> bool:
    """The InfoNCE loss of a row whose M candidates all have the same logit: log M (the chance level)."""
    return abs(float(answer) - math.log(num_candidates)) < 1e-4


@exercise("template_paper.logit_gradient", hint="dL/dlogits = (softmax(logits, dim=1) - onehot(positive)) / B: "
                                                "the positive is pushed up by 1 - p, every candidate down by its "
                                                "probability; the mean over rows divides by B.")
def logit_gradient(answer, logits, pos_index) -> bool:
    """The gradient (B, M) of the mean InfoNCE loss with respect to the logits."""
    logits = logits.detach().double().requires_grad_(True)
    F.cross_entropy(logits, pos_index).backward()
    answer = torch.as_tensor(answer).double()
    if answer.shape != logits.shape:
        raise AssertionError(f"the gradient has the shape of the logits, {tuple(logits.shape)}; yours has "
                             f"{tuple(answer.shape)}.")
    return bool(torch.allclose(answer, logits.grad, atol=1e-6))
