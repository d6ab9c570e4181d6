"""Solutions of the exercises in week01_dec/01_dec_paper_walkthrough.ipynb (checked by tests/test_exercises.py)."""
import torch

Z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]])        # (N, D)
MU = torch.tensor([[1.0, 0.0], [2.0, 2.0]])                    # (K, D)
Q = torch.tensor([[0.4, 0.35, 0.25], [0.3, 0.4, 0.3], [0.25, 0.25, 0.5], [0.5, 0.3, 0.2]])


def _q(z, mu):
    kernel = 1 / (1 + torch.cdist(z, mu) ** 2)                 # (N, K) alpha = 1
    return kernel / kernel.sum(1, keepdim=True)


def _p(q):
    weight = q**2 / q.sum(0)                                   # square sharpens, / f_j balances
    return weight / weight.sum(1, keepdim=True)


def _kl(p, q):
    return float((p * (p / q).log()).sum())


def _gradient(z, mu, p, i, sign=1.0):
    q = _q(z, mu)
    diff = z[i] - mu                                           # (K, D) z_i − mu_j
    w = 2 / (1 + diff.pow(2).sum(1)) * (p[i] - q[i])           # (K,) (α+1)/α = 2
    return sign * (w[:, None] * diff).sum(0)


def _gradient_context():
    return {"z": Z.clone(), "mu": MU.clone(), "p": _p(_q(Z, MU)), "i": 0}


CASES = {
    "week01_dec_paper.soft_assignment": {
        "context": lambda: {"z": Z.clone(), "mu": MU.clone()},
        "solution": _q,
        "wrong": lambda z, mu: 1 / (1 + torch.cdist(z, mu) ** 2),                # forgot to normalise the rows
    },
    "week01_dec_paper.kl_after_refresh": {
        "context": lambda: {"q": Q.clone()},
        "solution": lambda q: _kl(_p(q), q),
        "wrong": lambda q: _kl(q, _p(q)),                                          # KL(Q‖P), the wrong direction
    },
    "week01_dec_paper.gradient_one_point": {
        "context": _gradient_context,
        "solution": lambda z, mu, p, i: _gradient(z, mu, p, i),
        "wrong": lambda z, mu, p, i: _gradient(z, mu, p, i, sign=-1.0),           # (q − p): the sign flipped
    },
}
