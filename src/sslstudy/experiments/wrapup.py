"""Week 9 (wrap-up) experiments: every image method of the course at one equal budget, one evaluation.

- :data:`REGISTRY`: method name → :class:`Spec` — its family (for the taxonomy figure), the year, the module it is
  imported from (``sslstudy.methods``: no third copy of any method), how it is built on the shared backbone
  (:func:`sslstudy.backbones.SmallCNN` with the same initial weights for every method that can use it), how many
  **source images** one optimiser step consumes, how many views/crops it makes of each (reported, not counted),
  and what it does beside the budget (DEC's autoencoder pretraining, DeepCluster's per-epoch feature passes).
- :class:`Budget`: epochs × (n_train // batch_size) optimiser steps of ``batch_size`` source images each; the
  same for every method, so every method sees ``Budget.images`` source images.
- :func:`train_one`: trains one method at a budget and returns one report row (the counted images and steps,
  the losses, the collapse signal, kNN, linear probe, k-means ACC/NMI/ARI and the method's own clustering).
- :func:`baselines`: the untrained backbone (the same initial weights), raw pixels, and a supervised network
  trained with labels at the same budget.

The images a method really consumed are **counted** by :class:`CountingLoader` around its loader (not computed
from the settings), so ``tests/test_wrapup.py`` can prove that the budget is equal.

MoCo and SwAV (weeks 6 and 7) are registered too; their modules are imported when they exist
(``sslstudy.methods.moco`` ``MoCo``, ``sslstudy.methods.swav`` ``SwAV``), and :func:`available` lists what this
checkout holds. CPC (week 5) is not here: it learns from speech, not images, and is compared on its own data.
"""
from __future__ import annotations

import importlib
import inspect
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from sslstudy import augment, backbones, data, evaluate, train

FAMILIES = ("clustering", "generative / predictive", "contrastive", "non-contrastive")


# ------------------------------------------------------------------------------------------------ budget
@dataclass(frozen=True)
class Budget:
    """``epochs`` passes of ``n_train // batch_size`` optimiser steps, each on ``batch_size`` source images."""

    epochs: int
    batch_size: int

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}={v!r} is not allowed: the budget's {name} must be a positive whole number.")

    def steps(self, n_train: int) -> int:
        return self.epochs * (n_train // self.batch_size)

    def images(self, n_train: int) -> int:
        """Source images of the whole budget: steps × images per step (views and crops not counted)."""
        return self.steps(n_train) * self.batch_size


class CountingLoader:
    """Wraps a loader and counts the batches and source images it really yields (``len(batch.y)`` per batch).

    Every other attribute (``x``, ``set_assignments``, ``state_dict``, ``fingerprint``, …) is the wrapped loader's,
    so methods that talk to their loader (DeepCluster) keep working.
    """

    def __init__(self, loader):
        self.loader, self.batches, self.images = loader, 0, 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            self.batches += 1
            self.images += len(batch.y)
            yield batch

    def __getattr__(self, name):
        if name == "loader":                 # not set yet (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.loader, name)


# ------------------------------------------------------------------------------------------------ context
@dataclass
class Context:
    """What every builder gets: the data, the shared backbone's recipe and the optimiser."""

    train_set: data.ImageData
    test_set: data.ImageData
    budget: Budget
    seed: int = 0
    device: torch.device | str = "cpu"
    width: int = 16
    optimizer: str = "adam"
    lr: float = 2e-3
    weight_decay: float = 1e-6
    proj_dim: int = 128
    knobs: dict = field(default_factory=dict)   # per-method overrides, e.g. {"deepcluster": {"k": 10}}

    @property
    def image_size(self) -> int:
        return self.train_set.x.shape[-1]

    @property
    def in_channels(self) -> int:
        return self.train_set.x.shape[1]

    def norm(self, x: torch.Tensor) -> torch.Tensor:
        return data.normalize(x, self.train_set.name)

    def backbone(self) -> nn.Module:
        """The shared backbone, with the same initial weights for every method (seeded here)."""
        torch.manual_seed(self.seed)
        return backbones.SmallCNN(self.in_channels, width=self.width)

    def loader(self):
        return data.TensorLoader(self.train_set, self.budget.batch_size, device=self.device, seed=self.seed)

    def make_optimizer(self, params, name: str | None = None, lr: float | None = None):
        from sslstudy import optim
        return optim.make_optimizer(list(params), name or self.optimizer, self.lr if lr is None else lr,
                                    weight_decay=self.weight_decay)

    def knob(self, method: str, name: str, default):
        return self.knobs.get(method, {}).get(name, default)


@dataclass
class Built:
    """What a builder returns: the method and how to train and evaluate it."""

    method: nn.Module
    loader: object
    optimizer: object
    views: Callable | None = None
    transform: Callable | None = None
    features: nn.Module | None = None          # module mapping float images in [0, 1] → features (default: backbone)
    feature_transform: Callable | None = None  # applied to [0, 1] images before ``features`` (default: ctx.norm)
    own_clusters: Callable | None = None       # () → (predicted clusters, true labels) of the method's own clustering
    extra_images: dict = field(default_factory=dict)   # images processed outside the budget, reported beside it


def _batch_size(budget: Budget) -> int:
    """Source images per optimiser step: one batch, whatever the number of views made of each image."""
    return budget.batch_size


@dataclass(frozen=True)
class Spec:
    """One method of the comparison; ``module``/``attr`` name what is imported from ``sslstudy.methods``."""

    name: str
    label: str
    family: str
    year: int
    week: str
    module: str
    attr: str
    build: Callable[[Context], Built]
    images_per_step: Callable[[Budget], int] = _batch_size
    views_per_image: int = 1
    shared_backbone: bool = True
    notes: str = ""

    def importable(self) -> bool:
        try:
            return hasattr(importlib.import_module(self.module), self.attr)
        except ImportError:
            return False

    def cls(self):
        return getattr(importlib.import_module(self.module), self.attr)


def _kwargs_for(cls, **wanted) -> dict:
    """The keyword arguments of ``wanted`` that ``cls.__init__`` accepts (a sibling module may name fewer)."""
    params = inspect.signature(cls).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return wanted
    return {k: v for k, v in wanted.items() if k in params}


class _Features(nn.Module):
    """``method.features`` as a module, so :func:`sslstudy.evaluate.extract_features` can call it."""

    def __init__(self, method):
        super().__init__()
        self.method = method

    def forward(self, x):
        return self.method.features(x).flatten(1)


# ------------------------------------------------------------------------------------------------ builders
def _two_views(ctx: Context, recipe: str = "simclr"):
    size = ctx.image_size
    if recipe == "moco_v2":
        return augment.TwoViews(augment.moco_v2(size, blur=False))
    if recipe == "byol":
        return augment.TwoViews(*augment.byol(size))
    return augment.TwoViews(augment.simclr(size, strength=0.5, blur=False))


def build_dec(ctx: Context) -> Built:
    from sslstudy.methods.dec import DEC, flatten_images, pretrain_end_to_end

    x = flatten_images(ctx.train_set, device=ctx.device)                  # (N, C·H·W) pixels in [0, 1]
    dims = (x.shape[1], *ctx.knob("dec", "hidden_dims", (256, 256, 512, 10)))
    torch.manual_seed(ctx.seed)
    ae = backbones.DECAutoencoder(dims).to(ctx.device)
    pre_epochs = ctx.knob("dec", "pretrain_epochs", ctx.budget.epochs)
    k = ctx.train_set.num_classes

    def pretrain(ae_, x_):                                                # on_fit_start: before the budget's steps
        pretrain_end_to_end(ae_, x_, pre_epochs, batch_size=ctx.budget.batch_size, lr=1e-3, seed=ctx.seed,
                            name="wrapup-dec-ae")

    method = DEC(ae, k, x, update_interval=max(1, len(x) // ctx.budget.batch_size), tol=0.0,
                 max_iter=10 ** 9, pretrain=pretrain, seed=ctx.seed, n_init=ctx.knob("dec", "n_init", 5),
                 keep_q=False)

    def own():
        with torch.no_grad():
            xt = flatten_images(ctx.test_set, device=ctx.device)
            q = method.cluster(evaluate.extract_features(ae, xt).to(ctx.device))
        return q.argmax(1).cpu(), ctx.test_set.y

    opt = ctx.make_optimizer(method.trainable_parameters(), "sgd", ctx.knob("dec", "lr", 0.01))
    return Built(method, method.loader(ctx.budget.batch_size, ctx.seed), opt, features=ae,
                 feature_transform=lambda v: v.flatten(1), own_clusters=own,
                 extra_images={"pretraining (autoencoder)": pre_epochs * (len(x) // ctx.budget.batch_size)
                               * ctx.budget.batch_size})


def build_dac(ctx: Context) -> Built:
    from sslstudy.methods.dac import DAC, ClusteringHead, keras_batchnorm_, lambda_schedule, predict_clusters

    bb = ctx.backbone()
    head = ClusteringHead(bb.feature_dim, ctx.train_set.num_classes)
    keras_batchnorm_(bb)
    keras_batchnorm_(head)
    method = DAC(bb, head, lambda_schedule(ctx.budget.epochs)).to(ctx.device)

    def own():
        xt = ctx.norm(data.to_float(ctx.test_set.x.to(ctx.device)))
        return predict_clusters(method, xt).cpu(), ctx.test_set.y

    opt = torch.optim.RMSprop(method.parameters(), lr=ctx.knob("dac", "lr", 1e-3))   # the official optimiser
    return Built(method, ctx.loader(), opt, transform=ctx.norm, own_clusters=own)


def build_deepcluster(ctx: Context) -> Built:
    from sslstudy.methods.deepcluster import ClusterLoader, DeepCluster

    k = ctx.knob("deepcluster", "k", ctx.train_set.num_classes)
    method = DeepCluster(ctx.backbone(), len(ctx.train_set), k=k, mlp_dim=128, pca_dim=32, seed=ctx.seed,
                         transform=ctx.norm).to(ctx.device)
    loader = ClusterLoader(ctx.train_set, ctx.budget.batch_size, device=ctx.device, seed=ctx.seed)
    crop = augment.Compose([augment.RandomResizedCrop(ctx.image_size, scale=(0.2, 1.0)),
                            augment.RandomHorizontalFlip(0.5)])

    def own():
        return method.labels.cpu(), ctx.train_set.y        # its k-means of the last epoch, on the training images

    return Built(method, loader, ctx.make_optimizer(method.trunk_parameters()), views=crop, transform=ctx.norm,
                 own_clusters=own,
                 extra_images={"feature passes (k-means, no gradient)": ctx.budget.epochs * len(ctx.train_set)})


def build_vqvae(ctx: Context) -> Built:
    from sslstudy.methods.vqvae import build_vqvae as _build

    variance = float(data.to_float(ctx.train_set.x).var())
    torch.manual_seed(ctx.seed)
    method = _build(in_channels=ctx.in_channels, hidden=ctx.knob("vqvae", "hidden", 64), res_hidden=16,
                    num_res_layers=1, num_codes=ctx.knob("vqvae", "num_codes", 128), code_dim=16,
                    data_variance=variance).to(ctx.device)
    shift = lambda v: v - 0.5                                             # noqa: E731  Sonnet: x/255 − 0.5
    return Built(method, ctx.loader(), ctx.make_optimizer(method.parameters()), transform=shift,
                 features=_Features(method), feature_transform=shift)


def build_simclr(ctx: Context) -> Built:
    from sslstudy.methods.simclr import SimCLR

    method = SimCLR(ctx.backbone(), tau=0.5, proj_dim=ctx.proj_dim).to(ctx.device)
    return Built(method, ctx.loader(), ctx.make_optimizer(method.parameters()), views=_two_views(ctx),
                 transform=ctx.norm)


def build_moco(ctx: Context) -> Built:
    cls = REGISTRY["moco"].cls()
    queue = ctx.knob("moco", "K", 1024)
    queue -= queue % ctx.budget.batch_size or 0                           # MoCo needs K % B == 0
    queue = max(queue, ctx.budget.batch_size)
    kw = _kwargs_for(cls, dim=ctx.proj_dim, K=queue, m=ctx.knob("moco", "m", 0.99), T=0.1, mlp=True)
    method = cls(ctx.backbone(), **kw).to(ctx.device)
    trainable = [p for p in method.parameters() if p.requires_grad]
    return Built(method, ctx.loader(), ctx.make_optimizer(trainable), views=_two_views(ctx, "moco_v2"),
                 transform=ctx.norm)


def build_swav(ctx: Context) -> Built:
    cls = REGISTRY["swav"].cls()
    steps_per_epoch = len(ctx.train_set) // ctx.budget.batch_size
    kw = _kwargs_for(cls, n_prototypes=ctx.knob("swav", "n_prototypes", 30), proj_dim=ctx.proj_dim,
                     hidden_dim=2 * ctx.proj_dim, freeze_prototypes_niters=steps_per_epoch, queue_length=0,
                     epsilon=ctx.knob("swav", "epsilon", 0.05))   # the official default (week 7's fast mode: 0.03)
    method = cls(ctx.backbone(), **kw).to(ctx.device)
    trainable = [p for p in method.parameters() if p.requires_grad]
    return Built(method, ctx.loader(), ctx.make_optimizer(trainable), views=_two_views(ctx), transform=ctx.norm)


def build_simsiam(ctx: Context) -> Built:
    from sslstudy.methods.simsiam_byol import SimSiam

    method = SimSiam(ctx.backbone(), dim=ctx.proj_dim, pred_dim=max(1, ctx.proj_dim // 4), num_layers=2)
    return Built(method.to(ctx.device), ctx.loader(), ctx.make_optimizer(method.parameters()),
                 views=_two_views(ctx, "moco_v2"), transform=ctx.norm)


def build_byol(ctx: Context) -> Built:
    from sslstudy.methods.simsiam_byol import BYOL

    method = BYOL(ctx.backbone(), proj_dim=ctx.proj_dim, hidden_dim=2 * ctx.proj_dim,
                  base_ema=ctx.knob("byol", "base_ema", 0.99))
    return Built(method.to(ctx.device), ctx.loader(), ctx.make_optimizer(method.online_params()),
                 views=_two_views(ctx, "byol"), transform=ctx.norm)


REGISTRY: dict[str, Spec] = {s.name: s for s in (
    Spec("dec", "DEC", "clustering", 2016, "week01_dec", "sslstudy.methods.dec", "DEC", build_dec,
         shared_backbone=False,
         notes="an MLP autoencoder on pixels (the method needs a decoder); its autoencoder pretraining is reported "
               "beside the budget; evaluated on the 10-d embedding"),
    Spec("dac", "DAC", "clustering", 2017, "week02_dac", "sslstudy.methods.dac", "DAC", build_dac,
         notes="the paper's two-threshold algorithm, batch-statistics BN (Keras-1), RMSprop"),
    Spec("deepcluster", "DeepCluster", "clustering", 2018, "week03_deepcluster", "sslstudy.methods.deepcluster",
         "DeepCluster", build_deepcluster,
         notes="one augmented crop per image; k-means on every training image each epoch, reported beside the budget"),
    Spec("vqvae", "VQ-VAE", "generative / predictive", 2017, "week04_vqvae", "sslstudy.methods.vqvae", "VQVAE",
         build_vqvae, shared_backbone=False,
         notes="its own encoder-decoder; evaluated on the flattened encoder output z_e"),
    Spec("moco", "MoCo", "contrastive", 2020, "week06_moco", "sslstudy.methods.moco", "MoCo", build_moco,
         views_per_image=2, notes="queue K = 1024 (4k images), m = 0.99, T = 0.1, the v2 MLP head"),
    Spec("simclr", "SimCLR", "contrastive", 2020, "week08_simclr", "sslstudy.methods.simclr", "SimCLR",
         build_simclr, views_per_image=2, notes="τ = 0.5, 128-d head, colour strength 0.5"),
    Spec("swav", "SwAV", "clustering", 2020, "week07_swav", "sslstudy.methods.swav", "SwAV", build_swav,
         views_per_image=2, notes="30 prototypes, frozen for the first epoch (the official: 313 iterations = one "
                                  "ImageNet epoch), no queue; two full-size crops (no multi-crop)"),
    Spec("byol", "BYOL", "non-contrastive", 2020, "week09_wrapup", "sslstudy.methods.simsiam_byol", "BYOL",
         build_byol, views_per_image=2, notes="τ_base = 0.99 on the cosine schedule (short runs), asymmetric views"),
    Spec("simsiam", "SimSiam", "non-contrastive", 2021, "week09_wrapup", "sslstudy.methods.simsiam_byol",
         "SimSiam", build_simsiam, views_per_image=2, notes="2-layer projector (the CIFAR setup), predictor d → d/4 → d"),
)}


def available() -> list[str]:
    """The registered methods whose module this checkout holds, in the registry's order."""
    return [name for name, spec in REGISTRY.items() if spec.importable()]


# ------------------------------------------------------------------------------------------------ evaluation
def _clustering(features: torch.Tensor, y, k: int, seed: int) -> dict:
    labels, _ = evaluate.kmeans(features, k, n_init=3, seed=seed)
    return evaluate.clustering_scores(y, labels)


def _pca(train_f: torch.Tensor, test_f: torch.Tensor, q: int = 256):
    """Top ``q`` principal components (the linear probe on > q features takes minutes in float64 on 2 cores)."""
    q = min(q, len(train_f))
    if train_f.shape[1] <= q:
        return train_f, test_f
    mean = train_f.mean(0, keepdim=True)
    _, _, pcs = torch.pca_lowrank(train_f - mean, q=q, center=False, niter=2)
    return (train_f - mean) @ pcs, (test_f - mean) @ pcs


def score_features(train_f: torch.Tensor, test_f: torch.Tensor, train_y, test_y, num_classes: int,
                   seed: int = 0) -> dict:
    """The course's protocol on one representation: kNN (k 200, t 0.1), the linear probe (on ≤ 256 principal
    components), k-means ACC/NMI/ARI on the test features, and two collapse signals: ``feature_std``, the
    per-channel std of the L2-normalised test features (the SimSiam paper's), and ``feature_std_centred``, the same
    after subtracting the features' mean, so that a common offset (non-negative ReLU features, DEC's embedding far
    from the origin) does not read as a collapse; both are ≈ 1/√D when the features spread and 0 at a collapse."""
    ptr, pte = _pca(train_f, test_f)
    out = {"knn": evaluate.knn_accuracy(train_f, train_y, test_f, test_y),
           "linear": evaluate.linear_probe(ptr, train_y, pte, test_y)}
    out |= {f"kmeans_{k}": v for k, v in _clustering(test_f, test_y, num_classes, seed).items()}
    out["feature_std"] = F.normalize(test_f.float(), dim=1).std(0).mean().item()           # the papers' signal
    centred = test_f.float() - test_f.float().mean(0, keepdim=True)                            # (N, D)
    out["feature_std_centred"] = F.normalize(centred, dim=1).std(0).mean().item()
    out["feature_dim"] = int(test_f.shape[1])
    return out


def _features(module: nn.Module, ds: data.ImageData, transform) -> torch.Tensor:
    return evaluate.extract_features(module, ds, transform=transform)


# ------------------------------------------------------------------------------------------------ training
def train_one(name: str, ctx: Context, *, progress: bool | None = False) -> dict:
    """Train method ``name`` of :data:`REGISTRY` at ``ctx.budget`` and return its report row.

    The row holds ``method``, ``family``, ``steps`` and ``images`` (counted by :class:`CountingLoader`),
    ``images_per_step``, ``views_per_image``, ``extra_images`` (outside the budget), ``loss_first``/``loss_last``
    (epoch means), ``finite`` (every step's loss), the evaluation of :func:`score_features`, the method's own
    clustering (``own_acc``/``own_nmi``/``own_ari`` where it has one) and ``seconds``.
    """
    if name not in REGISTRY:
        raise ValueError(f"method={name!r} is not allowed: the registry holds {', '.join(map(repr, REGISTRY))}.")
    spec = REGISTRY[name]
    if not spec.importable():
        raise ValueError(f"method={name!r} is not allowed in this checkout: {spec.module}.{spec.attr} does not "
                         f"exist yet (available: {', '.join(available())}).")
    t0 = time.perf_counter()
    built = spec.build(ctx)
    counter = CountingLoader(built.loader)
    expected_steps = ctx.budget.steps(len(ctx.train_set))
    if len(counter) * ctx.budget.epochs != expected_steps:
        raise ValueError(f"{name}: its loader has {len(counter)} steps per epoch, the budget needs "
                         f"{expected_steps // ctx.budget.epochs}; every method must take the same steps.")
    torch.manual_seed(ctx.seed)
    history = train.fit_method(built.method, counter, ctx.budget.epochs, built.optimizer, views=built.views,
                               transform=built.transform, checkpoint=False, progress=progress,
                               name=f"wrapup-{name}")
    feats = built.features if built.features is not None else built.method.backbone
    ftf = built.feature_transform if built.feature_transform is not None else ctx.norm
    train_f, test_f = _features(feats, ctx.train_set, ftf), _features(feats, ctx.test_set, ftf)
    row = {"method": spec.label, "key": name, "family": spec.family, "year": spec.year,
           "shared_backbone": spec.shared_backbone, "steps": counter.batches, "images": counter.images,
           "images_per_step": spec.images_per_step(ctx.budget), "views_per_image": spec.views_per_image,
           "extra_images": dict(built.extra_images),
           "loss_first": history.rows[0].get("loss") if history.rows else float("nan"),
           "loss_last": history.last("loss", float("nan")),
           "finite": bool(history.steps) and all(math.isfinite(v) for v in history.steps)}
    row |= score_features(train_f, test_f, ctx.train_set.y, ctx.test_set.y, ctx.train_set.num_classes, ctx.seed)
    if built.own_clusters is not None:
        pred, y = built.own_clusters()
        row |= {f"own_{k}": v for k, v in evaluate.clustering_scores(y, pred).items()}
    row["seconds"] = time.perf_counter() - t0
    row["_features"] = test_f                   # for the gallery; callers drop keys starting with "_" before saving
    return row


def baselines(ctx: Context, supervised: bool = True, progress: bool | None = False) -> list[dict]:
    """Rows for the untrained shared backbone (the very initial weights every method starts from), raw pixels
    (the linear probe on 256 principal components) and, with ``supervised``, the same backbone + a linear layer
    trained with labels and cross-entropy at the same budget (same optimiser, no augmentation)."""
    rows = []
    t0 = time.perf_counter()
    rnd = ctx.backbone().to(ctx.device)
    f = [_features(rnd, s, ctx.norm) for s in (ctx.train_set, ctx.test_set)]
    rows.append({"method": "random init", "key": "random", "family": "baseline", "steps": 0, "images": 0,
                 **score_features(*f, ctx.train_set.y, ctx.test_set.y, ctx.train_set.num_classes, ctx.seed),
                 "seconds": time.perf_counter() - t0, "_features": f[1]})
    t0 = time.perf_counter()
    px = [ctx.norm(data.to_float(s.x).float()).flatten(1) for s in (ctx.train_set, ctx.test_set)]
    rows.append({"method": "raw pixels", "key": "pixels", "family": "baseline", "steps": 0, "images": 0,
                 **score_features(*px, ctx.train_set.y, ctx.test_set.y, ctx.train_set.num_classes, ctx.seed),
                 "seconds": time.perf_counter() - t0, "_features": px[1]})
    if supervised:
        t0 = time.perf_counter()
        enc = ctx.backbone().to(ctx.device)
        head = nn.Linear(enc.feature_dim, ctx.train_set.num_classes).to(ctx.device)
        counter = CountingLoader(ctx.loader())
        opt = ctx.make_optimizer(list(enc.parameters()) + list(head.parameters()))

        def step(batch):
            return F.cross_entropy(head(enc(ctx.norm(batch.x))), batch.y)

        torch.manual_seed(ctx.seed)
        train.fit(step, counter, ctx.budget.epochs, opt, modules={"encoder": enc, "head": head}, checkpoint=False,
                  progress=progress, name="wrapup-supervised")
        f = [_features(enc, s, ctx.norm) for s in (ctx.train_set, ctx.test_set)]
        rows.append({"method": "supervised", "key": "supervised", "family": "baseline", "steps": counter.batches,
                     "images": counter.images,
                     **score_features(*f, ctx.train_set.y, ctx.test_set.y, ctx.train_set.num_classes, ctx.seed),
                     "seconds": time.perf_counter() - t0, "_features": f[1]})
    return rows


def public(row: dict) -> dict:
    """A row without its private entries (``_features``), ready for a report record."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


# ------------------------------------------------------------------------------------------------ reference run
REFERENCE = dict(dataset="cifar10", image_size=16, n_train=4_000, n_test=1_000, width=16, batch_size=128, epochs=10,
                 optimizer="adam", lr=2e-3, weight_decay=1e-6, proj_dim=128)


def load_data(dataset: str, image_size: int, n_train: int, n_test: int, seed: int):
    """The comparison's data: class-balanced subsets (the test set the same for every seed), resized, in colour."""
    train_set, test_set = data.load_splits(dataset, fallback=True, size=image_size, channels=3)
    return data.balanced_subset(train_set, n_train, seed=seed), data.balanced_subset(test_set, n_test, seed=0)


def reference_run(seeds=(0, 1, 2), methods=None, out=None, **overrides) -> list[dict]:
    """Train every method (or ``methods``) and the baselines on each seed at the reference budget; one report
    record per seed (``rows`` = one row per method), saved to ``out`` (a .json path) after every seed."""
    from sslstudy import config, report

    knobs = {**REFERENCE, **overrides}
    methods = list(methods or available())
    records = []
    for seed in seeds:
        config.seed_everything(seed)
        t0 = time.perf_counter()
        train_set, test_set = load_data(knobs["dataset"], knobs["image_size"], knobs["n_train"], knobs["n_test"], seed)
        ctx = Context(train_set, test_set, Budget(knobs["epochs"], knobs["batch_size"]), seed=seed,
                      width=knobs["width"], optimizer=knobs["optimizer"], lr=knobs["lr"],
                      weight_decay=knobs["weight_decay"], proj_dim=knobs["proj_dim"])
        rows = [public(r) | {"seed": seed} for r in baselines(ctx)]
        for name in methods:
            rows.append(public(train_one(name, ctx)) | {"seed": seed})
            print(f"seed {seed} {name}: kNN {rows[-1]['knn']:.3f} linear {rows[-1]['linear']:.3f} "
                  f"({rows[-1]['seconds']:.0f} s)", flush=True)
        settings = {**knobs, "dataset": train_set.name, "seed": seed, "mode": "fast", "methods": methods}
        args = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in overrides.items())
        records.append(report.record(
            f"reference run, seed {seed}", settings, rows=rows, notebook="09_wrapup_code_analysis",
            wall_seconds=time.perf_counter() - t0,
            command=f"SSL_THREADS=2 python -m sslstudy.experiments.wrapup --seeds {seed} "
                    f"--methods {' '.join(methods)} {args}".strip(),
            notes="equal budget: every method the same optimiser steps × source images; views not counted"))
        if out is not None:
            report.save(records, out)
    return records


def main(argv=None) -> None:
    import argparse

    p = argparse.ArgumentParser(description="Week 9: every image method at one equal budget (the reference run).")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--methods", nargs="+", default=None, help=f"default: every available one of {list(REGISTRY)}")
    p.add_argument("--out", default="build/week09_reference.json")
    for k, v in REFERENCE.items():
        p.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=None)
    a = p.parse_args(argv)
    overrides = {k: getattr(a, k) for k in REFERENCE if getattr(a, k) is not None}
    from sslstudy import config
    config.set_threads()
    reference_run(a.seeds, a.methods, a.out, **overrides)


if __name__ == "__main__":
    main()
