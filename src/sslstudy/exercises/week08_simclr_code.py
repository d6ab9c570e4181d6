"""Checkers of the exercises in ``week08_simclr/08_simclr_code_analysis.ipynb`` (solutions: ``solutions/``)."""
import math

import torch

from sslstudy.exercises import exercise


@exercise("week08_simclr_code.official_sum",
          hint="take the two logit matrices and the labels from nt_xent_logits(z1, z2, tau); the official loss is "
               "info_nce_from_logits(logits_a, labels) + info_nce_from_logits(logits_b, labels), a sum, not a mean.")
def official_sum(answer, z1, z2, tau):
    from sslstudy.methods.simclr import nt_xent_loss

    if not isinstance(answer, torch.Tensor) or answer.numel() != 1:
        raise AssertionError("the answer is one number: a scalar tensor, loss_a + loss_b.")
    expected = 2 * nt_xent_loss(z1, z2, tau)
    if torch.allclose(answer.detach().float(), expected / 2, atol=1e-5):
        raise AssertionError("that is our mean over the 2N anchors, (loss_a + loss_b) / 2; the official code sums.")
    return bool(torch.allclose(answer.detach().float(), expected, atol=1e-5))


@exercise("week08_simclr_code.sqrt_base_lr",
          hint="equate the two peaks: base_sqrt · √4096 = 0.3 · 4096 / 256, and solve for base_sqrt.")
def sqrt_base_lr(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise AssertionError("the answer is a number: the base lr for sqrt scaling.")
    return math.isclose(answer * math.sqrt(4096), 0.3 * 4096 / 256, rel_tol=1e-6)


@exercise("week08_simclr_code.lars_ratio",
          hint="BN parameters and biases have no trust ratio, so their step is proportional to the gradient; a "
               "weight's first step has length lr·η‖w‖ whatever the gradient's size.")
def lars_ratio(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("the answer is a pair (ratio on a BN parameter, ratio on a conv weight).")
    bn, weight = (float(a) for a in answer)
    return math.isclose(bn, 0.5, abs_tol=1e-6) and math.isclose(weight, 1.0, abs_tol=1e-6)
