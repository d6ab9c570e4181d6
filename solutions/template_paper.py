"""Solutions of notebooks/_template_paper_walkthrough.ipynb's example exercises."""
import math

import torch
import torch.nn.functional as F


def _grad_context():
    g = torch.Generator().manual_seed(0)
    return {"logits": torch.randn(4, 6, generator=g), "pos_index": torch.tensor([0, 3, 1, 5])}


CASES = {
    "template_paper.chance_loss": {
        "context": {"num_candidates": 64},
        "solution": math.log(64),
        "wrong": 1 / 64,
    },
    "template_paper.logit_gradient": {
        "context": _grad_context,
        "solution": lambda logits, pos_index: (logits.softmax(1) - F.one_hot(pos_index, logits.shape[1])) / len(logits),
        "wrong": lambda logits, pos_index: logits.softmax(1) - F.one_hot(pos_index, logits.shape[1]),  # no 1/B
    },
}
