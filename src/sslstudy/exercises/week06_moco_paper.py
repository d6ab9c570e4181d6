"""Checkers of the exercises in ``week06_moco/06_moco_paper_walkthrough.ipynb`` (solutions: ``solutions/``)."""
import math

import torch

from sslstudy.exercises import exercise


@exercise("week06_moco_paper.uniform_loss",
          hint="losses.info_nce_from_logits(torch.zeros(4, 1 + 4096), 0): every candidate has probability 1/(K+1), "
               "so the loss is log(4097).")
def uniform_loss(answer):
    value = float(answer.detach()) if isinstance(answer, torch.Tensor) and answer.numel() == 1 else answer
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssertionError("the answer is one number (a float or a scalar tensor): the loss.")
    if math.isclose(value, math.log(4096), rel_tol=1e-6):
        raise AssertionError("there are K + 1 candidates (the positive and K negatives), not K.")
    return math.isclose(value, math.log(4097), rel_tol=1e-5)


@exercise("week06_moco_paper.key_staleness",
          hint="memory bank: 50,000 // 512 = 97 steps (one epoch); MoCo: 4,096 / 512 = 8 steps.")
def key_staleness(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("the answer is a pair (memory bank steps, MoCo steps).")
    bank, moco = (float(a) for a in answer)
    if math.isclose(bank, 8) and math.isclose(moco, 97):
        raise AssertionError("the pair is the other way round: (memory bank, MoCo).")
    return math.isclose(bank, 50_000 // 512, abs_tol=1) and math.isclose(moco, 4096 / 512)
