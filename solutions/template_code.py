"""Solutions of notebooks/_template_code_analysis.ipynb's example exercises."""
import torch
import torch.nn.functional as F


def _z_context():
    g = torch.Generator().manual_seed(0)
    return {"z1": torch.randn(8, 16, generator=g), "z2": torch.randn(8, 16, generator=g), "tau": 0.2}


def _diagonal(z1, z2, tau, transpose=False):
    logits = F.normalize(z1, dim=1) @ F.normalize(z2, dim=1).T / tau     # (B, B)
    return F.cross_entropy(logits.T if transpose else logits, torch.arange(len(z1)))


CASES = {
    "template_code.num_steps": {
        "context": {"n_train": 2_000, "batch_size": 128, "num_epochs": 6},
        "solution": 2_000 // 128 * 6,
        "wrong": -(-2_000 // 128) * 6,   # counts the incomplete last batch
    },
    "template_code.diagonal_logits": {
        "context": _z_context,
        "solution": lambda z1, z2, tau: _diagonal(z1, z2, tau),
        "wrong": lambda z1, z2, tau: _diagonal(z1, z2, tau, transpose=True),   # softmax over the queries
    },
}
