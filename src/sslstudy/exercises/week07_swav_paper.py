"""Checkers of the exercises in ``week07_swav/07_swav_paper_walkthrough.ipynb`` (solutions: ``solutions/``)."""
import torch
import torch.nn.functional as F

from sslstudy.exercises import exercise


@exercise("week07_swav_paper.one_iteration",
          hint="Q = torch.exp(scores.T / ε); Q = Q / Q.sum(); Q = Q / Q.sum(1, keepdim=True) / K; "
               "Q = Q / Q.sum(0, keepdim=True) / B; answer = (Q * B).T — rows (prototypes) first, then columns.")
def one_iteration(answer, scores, epsilon):
    from sslstudy.methods.swav import sinkhorn

    if not isinstance(answer, torch.Tensor) or answer.shape != scores.shape:
        raise AssertionError(f"the answer is a {tuple(scores.shape)} tensor (B, K), like the scores.")
    if torch.allclose(answer.float(), sinkhorn(scores, epsilon, 3), atol=1e-5):
        raise AssertionError("that is 3 iterations; the exercise asks for one.")
    return bool(torch.allclose(answer.float(), sinkhorn(scores, epsilon, 1), atol=1e-5))


@exercise("week07_swav_paper.swapped_pair",
          hint="q1, q2 = sinkhorn(s1), sinkhorn(s2); the loss is −(q2 · log_softmax(s1 / 0.1)).sum(1).mean() "
               "− (q1 · log_softmax(s2 / 0.1)).sum(1).mean(): each view predicts the OTHER view's code.")
def swapped_pair(answer, s1, s2):
    from sslstudy.methods.swav import sinkhorn

    if not isinstance(answer, torch.Tensor) or answer.numel() != 1:
        raise AssertionError("the answer is one number: a scalar tensor.")
    q1, q2 = sinkhorn(s1), sinkhorn(s2)
    lp1, lp2 = F.log_softmax(s1 / 0.1, 1), F.log_softmax(s2 / 0.1, 1)
    unswapped = -(q1 * lp1).sum(1).mean() - (q2 * lp2).sum(1).mean()
    if torch.allclose(answer.detach().float(), unswapped, atol=1e-5):
        raise AssertionError("each view predicts its own code there; SwAV swaps: view 1 predicts q2.")
    return bool(torch.allclose(answer.detach().float(), -(q2 * lp1).sum(1).mean() - (q1 * lp2).sum(1).mean(), atol=1e-5))
