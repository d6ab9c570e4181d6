"""Checkers of ``notebooks/_template_code_analysis.ipynb``: EXAMPLES of the exercise format.

A week's code analysis replaces these with its own module ``weekNN_<method>_code.py`` (ids
``"weekNN_<method>_code.<name>"``) and its solutions in ``solutions/weekNN_<method>_code.py``.
"""
from __future__ import annotations

import torch

from ..losses import info_nce
from . import exercise


@exercise("template_code.num_steps", hint="the loader drops the last incomplete batch (drop_last=True): "
                                          "n_train // batch_size steps per epoch, times the epochs.")
def num_steps(answer, n_train, batch_size, num_epochs) -> bool:
    """The optimiser steps of the main run, which the supervised baseline gets too."""
    return int(answer) == (n_train // batch_size) * num_epochs and float(answer) == int(answer)


@exercise("template_code.diagonal_logits", hint="normalise z1 and z2 (dim 1), logits = z1 @ z2.T / tau (B, B), "
                                               "the positive of row b is column b: F.cross_entropy(logits, "
                                               "torch.arange(B)); the softmax runs over dim 1, the candidates.")
def diagonal_logits(answer, z1, z2, tau) -> bool:
    """info_nce(z1, z2, tau=tau, normalize=True) written with F.cross_entropy."""
    want = info_nce(z1, z2, tau=tau, normalize=True)
    return abs(float(torch.as_tensor(answer)) - float(want)) < 1e-5
