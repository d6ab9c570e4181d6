"""Week 1 (DEC) experiments: the settings table, every clustering run's common start, the clustering ablations.

- :func:`settings`: the run's :class:`~sslstudy.config.Settings` (``"week01_dec.code"``), built by the
  code-analysis notebook and by ``week01_dec/full_mode_ablations.py`` alike; :func:`fit_to_data` adapts the
  data-dependent knobs when the data has another size (the ``digits`` fallback); :func:`pretrain_settings` is
  the pretraining's own settings (its checkpoint key), so the script resumes the notebook's finished
  pretraining and a change of a clustering knob does not throw the pretraining away.
- :func:`start_from`: a copy of the pretrained autoencoder and a clustering layer at the k-means centres.
- :func:`clustering_ablations`: where P comes from (per mini-batch, every ``update_interval`` iterations, every
  epoch) and alpha (0.5, 10), each from :func:`start_from` for the same number of iterations.
"""
from __future__ import annotations

import copy

import torch

from sslstudy import config, data, evaluate
from sslstudy.backbones import DECAutoencoder
from sslstudy.methods.dec import ClusteringLayer, fit_dec

NAME = "week01_dec.code"
#: The official refresh interval as a fraction of an epoch: 160 iterations of the 273 that 70,000 points make
#: at batch 256 (dec/dec.py, ``lam = 160`` for MNIST).
OFFICIAL_FRACTION = 160 / 273
DATASETS = ("mnist", "fashion_mnist", "digits")
#: The knobs of the pretraining (its checkpoint key), a subset of the settings table.
PRETRAIN_KNOBS = ("dataset", "n_samples", "hidden_dims", "pretrain", "pretrain_epochs", "pretrain_optimizer",
                  "pretrain_lr", "pretrain_batch_size")


def update_interval_for(n: int, batch_size: int = 256, fraction: float = OFFICIAL_FRACTION) -> int:
    """The refresh interval in iterations that keeps the official fraction of an epoch for ``n`` points."""
    return max(1, round(fraction * n / batch_size))


def settings(cfg: config.Config, dataset: str = "mnist", pretrain_epochs: int | None = None,
             verbose: bool = True) -> config.Settings:
    """The week-1 settings table (fast | full | used): data, autoencoder, pretraining, clustering phase, IDEC.

    ``pretrain_epochs=None`` takes the mode's default (fast 40 epochs of 5,000 points = 200k samples, full 100
    epochs of 70,000); a number overrides it in both modes (300 = DEC-keras's length).
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r} is not allowed: week 1 offers {', '.join(map(repr, DATASETS))}.")
    ok = pretrain_epochs is None or (isinstance(pretrain_epochs, int) and not isinstance(pretrain_epochs, bool)
                                     and pretrain_epochs >= 1)
    if not ok:
        raise ValueError(f"pretrain_epochs={pretrain_epochs!r} is not allowed: use None (the mode's default) or a "
                         "positive whole number of epochs.")
    knobs = dict(
        dataset=dataset,
        n_samples=config.ff(5_000, 70_000),           # clustered = evaluated (DEC is transductive)
        n_clusters=10,
        hidden_dims=(500, 500, 2000, 10),              # d-500-500-2000-10
        pretrain="end-to-end",                         # DEC-keras's recipe (the paper: layer-wise, see §3.6)
        pretrain_epochs=config.ff(40, 100) if pretrain_epochs is None else pretrain_epochs,
        pretrain_optimizer="adam",                     # IDEC's; DEC-keras's SGD lr 1 needs its 300 epochs
        pretrain_lr=1e-3,
        pretrain_batch_size=256,
        kmeans_restarts=20,                            # on the embedding, as the paper
        pixel_kmeans_restarts=3,                       # the pixel baseline (784-d: slower)
        batch_size=256,                                # clustering phase, as the official code
        update_interval=config.ff(update_interval_for(5_000), 160),   # 160/273 of an epoch, as the official code
        tol=0.001,                                     # stop when < 0.1% of the assignments change
        max_iter=config.ff(300, 20_000),               # DEC-keras: maxiter 2e4
        alpha=1.0,                                     # Student's t degrees of freedom
        lr=0.01,                                       # SGD, as the official clustering solver
        momentum=0.9,
        gamma=0.1,                                     # IDEC's weight of the clustering loss
        idec_optimizer="adam",                         # IDEC's official MNIST setting
        idec_lr=1e-3,
    )
    return config.Settings(NAME, cfg.mode, cfg.seed, knobs, verbose=verbose)


def fit_to_data(S: config.Settings, n: int) -> config.Settings:
    """When the data has ``n`` points instead of ``S.n_samples`` (the ``digits`` fallback has 1,797), keep the
    pretraining's number of samples seen and the official refresh fraction: update n_samples, pretrain_epochs
    and update_interval (each change is printed)."""
    if n != S.n_samples:
        epochs = max(1, round(S.n_samples * S.pretrain_epochs / n))
        S.update(n_samples=n, pretrain_epochs=epochs, update_interval=update_interval_for(n, S.batch_size))
    return S


def pretrain_settings(S: config.Settings) -> config.Settings:
    """The pretraining's settings (its checkpoint key): the pretraining knobs of ``S``, with its mode and seed."""
    return config.Settings("week01_dec.pretrain", S.mode, S.seed, {k: S[k] for k in PRETRAIN_KNOBS}, verbose=False)


def start_from(pretrained: DECAutoencoder, centers: torch.Tensor, alpha: float = 1.0):
    """A copy of the ``pretrained`` autoencoder and a clustering layer at the k-means ``centers`` (K, D), so that
    every clustering run starts from the same point. Returns (autoencoder, clustering layer)."""
    model = copy.deepcopy(pretrained)
    device = next(model.parameters()).device
    cluster = ClusteringLayer(len(centers), model.feature_dim, alpha).to(device)
    with torch.no_grad():
        cluster.centers.copy_(centers.to(device))
    return model, cluster


def clustering_ablations(pretrained: DECAutoencoder, centers: torch.Tensor, x: torch.Tensor, y, update_interval: int,
                         iterations: int, batch_size: int = 256, alpha: float = 1.0, seed: int = 0,
                         progress: bool | None = None) -> list:
    """The clustering-phase ablations, each from :func:`start_from` for exactly ``iterations`` iterations (tol = 0):
    where P comes from (per mini-batch · every ``update_interval`` iterations · every epoch) and alpha (0.5, 10).
    Returns one row per variant: variant, iterations, seconds, acc, nmi, ari."""
    epoch_iters = len(data.TensorLoader(x, batch_size))
    variants = [("P per mini-batch", {"batch_target": True}, alpha),
                (f"P every {update_interval} iterations (official fraction)", {}, alpha),
                (f"P every epoch ({epoch_iters} iterations)", {"update_interval": epoch_iters}, alpha),
                ("alpha = 0.5", {}, 0.5),
                ("alpha = 10", {}, 10.0)]
    rows = []
    for label, kw, a in variants:
        model, cluster = start_from(pretrained, centers, a)
        res = fit_dec(model, cluster, x, **{"update_interval": update_interval, **kw}, tol=0.0, max_iter=iterations,
                      batch_size=batch_size, y=y, seed=seed, name=label, progress=progress)
        rows.append({"variant": label, "iterations": res.iterations, "seconds": round(res.seconds, 1),
                     **evaluate.clustering_scores(y, res.pred)})
    return rows
