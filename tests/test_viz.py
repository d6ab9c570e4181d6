import numpy as np
import pytest
import torch

from sslstudy import viz


@pytest.fixture(autouse=True)
def _agg(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")


def test_every_plot_saves_and_returns_none(tmp_path):
    x = torch.rand(6, 1, 8, 8)
    calls = {
        "grid": lambda p: viz.show_images(x, nrow=3, labels=[0, 1, 2, 3, 4, 5], title="t", save=p),
        "pairs": lambda p: viz.show_view_pairs(x, x.flip(-1), n=3, save=p),
        "curves": lambda p: viz.plot_curves({"a": [1, 2, 3], "b": ([1, 2], [3, 1])}, title="c", save=p),
        "embedding": lambda p: viz.plot_embedding(torch.randn(50, 5), np.arange(50) % 3, method="pca", save=p),
        "matrix": lambda p: viz.plot_matrix(np.eye(3), annotate=True, save=p),
        "confusion": lambda p: viz.plot_confusion(np.array([[5, 1], [0, 4]]), ["a", "b"], save=p),
        "pipeline": lambda p: viz.pipeline_diagram([["x", "encoder f\n(B, 512)", "z"], ["", "x'", "z'"]],
                                                   arrows=[((0, 0), (1, 1), "view 2")], loops=[((0, 1), (0, 2), "refresh")],
                                                   title="t", save=p),
    }
    for name, call in calls.items():
        path = tmp_path / f"{name}.png"
        assert call(path) is None
        assert path.stat().st_size > 1000, name


def test_unknown_embedding_method():
    with pytest.raises(ValueError, match="Unknown embedding method 'tsne'"):
        viz.embed_2d(torch.randn(10, 3), method="tsne")


def test_results_table():
    t = viz.results_table([{"model": "a", "knn": 0.5}], ["model", "knn", "linear"])
    assert t.splitlines()[2] == "| a | 0.500 | – |"


def test_pipeline_diagram_rejects_unknown_boxes():
    with pytest.raises(ValueError, match="names a box that does not exist"):
        viz.pipeline_diagram([["a", "b"]], arrows=[((0, 0), (3, 3), "")])
    with pytest.raises(ValueError, match="takes rows"):
        viz.pipeline_diagram("abc")
