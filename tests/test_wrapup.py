"""The equal-budget harness of week 9 (sslstudy.experiments.wrapup): every registered method that this checkout
holds trains on the same number of source images, counted from what its loader really yielded."""
import math

import pytest
import torch

from sslstudy import data
from sslstudy.experiments import wrapup


def _toy(n: int, seed: int, size: int = 16) -> data.ImageData:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    base = torch.rand(10, 3, size, size, generator=g)                     # one colour pattern per class
    x = (0.6 * base[y] + 0.4 * torch.rand(n, 3, size, size, generator=g)).mul(255).to(torch.uint8)
    return data.ImageData(x, y, "cifar10", "train", [str(c) for c in range(10)])


@pytest.fixture(scope="module")
def ctx():
    return wrapup.Context(_toy(80, 0), _toy(40, 1), wrapup.Budget(epochs=2, batch_size=16), seed=0, width=4,
                          proj_dim=16, knobs={"dec": {"hidden_dims": (32, 32, 64, 10), "pretrain_epochs": 1,
                                                      "n_init": 1},
                                              "vqvae": {"hidden": 16, "num_codes": 16}})


@pytest.fixture(scope="module")
def rows(ctx):
    return {name: wrapup.train_one(name, ctx) for name in wrapup.available()}


def test_the_registry_holds_every_image_method_of_the_course():
    assert set(wrapup.REGISTRY) == {"dec", "dac", "deepcluster", "vqvae", "moco", "simclr", "swav", "byol", "simsiam"}
    assert {s.family for s in wrapup.REGISTRY.values()} <= set(wrapup.FAMILIES)
    assert {"dec", "dac", "deepcluster", "vqvae", "simclr", "byol", "simsiam"} <= set(wrapup.available())


def test_every_method_consumes_the_same_number_of_source_images(ctx, rows):
    steps = ctx.budget.steps(len(ctx.train_set))                          # 2 epochs × 80 // 16 = 10
    images = ctx.budget.images(len(ctx.train_set))                        # 160
    assert (steps, images) == (10, 160)
    counted = {name: (r["steps"], r["images"]) for name, r in rows.items()}
    assert counted == {name: (steps, images) for name in rows}, counted
    assert all(r["images_per_step"] == ctx.budget.batch_size for r in rows.values())
    assert rows["simclr"]["views_per_image"] == 2 and rows["dac"]["views_per_image"] == 1   # reported, not counted
    assert rows["dec"]["extra_images"] == {"pretraining (autoencoder)": 80}
    assert rows["deepcluster"]["extra_images"] == {"feature passes (k-means, no gradient)": 160}


def test_the_counting_loader_counts_what_it_yields():
    loader = wrapup.CountingLoader(data.TensorLoader(_toy(50, 2), 16, seed=0))
    assert len(loader) == 3 and sum(len(b.y) for b in loader) == 48
    assert (loader.batches, loader.images) == (3, 48)
    assert loader.batch_size == 16                                        # other attributes: the wrapped loader's


def test_rows_report_finite_losses_and_the_evaluation(rows):
    for name, r in rows.items():
        assert r["finite"], name
        assert math.isfinite(r["loss_last"]), name
        for key in ("knn", "linear", "kmeans_acc", "kmeans_nmi", "kmeans_ari"):
            assert 0 <= r[key] <= 1 or key == "kmeans_ari", (name, key, r[key])
        assert r["feature_std"] > 0, name
    for name in ("dec", "dac", "deepcluster"):
        assert "own_acc" in rows[name], name
    assert "own_acc" not in rows["simclr"]


def test_baselines_use_the_same_budget_for_the_supervised_network(ctx):
    b = {r["key"]: r for r in wrapup.baselines(ctx)}
    assert set(b) == {"random", "pixels", "supervised"}
    assert (b["supervised"]["steps"], b["supervised"]["images"]) == (10, 160)
    assert b["pixels"]["feature_dim"] == 3 * 16 * 16


def test_bad_input_gets_one_sentence(ctx):
    with pytest.raises(ValueError, match="method='cpc' is not allowed"):
        wrapup.train_one("cpc", ctx)
    with pytest.raises(ValueError, match="epochs=0 is not allowed"):
        wrapup.Budget(epochs=0, batch_size=16)
