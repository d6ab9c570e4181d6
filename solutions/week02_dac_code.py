"""Solutions of the exercises in week02_dac/02_dac_code_analysis.ipynb (checked by tests/test_exercises.py)."""
import torch

from sslstudy.methods import dac as D


def _sim():
    g = torch.Generator().manual_seed(1)
    return D.pairwise_similarity(D.label_features(torch.randn(8, 10, generator=g) * 3))


def _model_and_images():
    torch.manual_seed(0)
    backbone, head = D.build_network("small_cnn", 1, 10, width=4)
    x = torch.randn(300, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    return {"model": D.DAC(backbone, head, [0.0]), "x": x}


CASES = {
    "week02_dac_code.star_loss": {
        "context": lambda: {"sim": _sim(), "th": 0.7},
        "solution": lambda sim, th: ((sim - (sim > th).float()) ** 2).mean(),
        "wrong": lambda sim, th: ((sim - (sim > th).float()) ** 2).sum(),           # a sum, not Keras' mean
    },
    "week02_dac_code.official_steps": {
        "context": {},
        "solution": 70_000 // 1_000 * 5 * -(-1_000 // 128),                          # 70 × 5 × 8 = 2,800
        "wrong": 70 * 5 * 7,                                                          # dropped the last batch
    },
    "week02_dac_code.batch_dependence": {
        "context": _model_and_images,
        "solution": lambda model, x: float((D.predict_clusters(model, x, 50) != D.predict_clusters(model, x, 128))
                                           .float().mean()),
        "wrong": lambda model, x: 1.5,
    },
}
