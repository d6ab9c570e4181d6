"""``python -m sslstudy train``: the course's methods trained for real, on one process or many (DDP).

The notebooks teach at a small budget; this command runs the very same method modules
(``sslstudy.methods.*``) with each method's **full-mode settings as its defaults** (printed, and stored in the
run record), on one CPU or GPU, or on several processes under ``torchrun``::

    python -m sslstudy train --method simclr --dataset cifar10                       # one GPU (or CPU)
    torchrun --nproc_per_node 4 -m sslstudy train --method simclr --batch-size 512  # 4 GPUs, 128 per GPU
    python -m sslstudy train --method simclr --mode fast                            # the smoke run CI uses

What several processes change, and where it lives:

- the data: :class:`sslstudy.data.TensorLoader` shards every global batch (``--batch-size`` is the global
  batch), reshuffled each epoch from the seed, identically in every process;
- the gradients: :func:`sslstudy.train.fit_method` wraps the method in ``DistributedDataParallel``;
- BatchNorm: ``SyncBatchNorm`` on CUDA where the official recipe uses it (PyTorch's SyncBatchNorm does not run on
  CPU; on CPU each process normalises over its own shard, as the official code without SyncBN);
- the methods' own distributed pieces: SimCLR's negatives gathered from every process
  (``gather=True`` → :func:`sslstudy.distributed.all_gather_with_grad`); DeepCluster's features computed in
  shares and gathered, k-means on rank 0 and the pseudo-labels broadcast, its uniform sampler's batches sharded;
  MoCo's key batch shuffled across processes (Shuffle-BN) and the keys of every process enqueued; SwAV's
  Sinkhorn with its sums all-reduced over the processes (``sslstudy.methods.swav.sinkhorn``);
- the kNN monitor: features of every image, computed in shares and gathered
  (:func:`sslstudy.evaluate.extract_features_sharded`);
- checkpoints: written by rank 0 at the end of every epoch into ``--out``, read by every process, so running
  the same command again resumes a killed run; progress and logs come from rank 0 only; rank 0 writes the run
  record (:mod:`sslstudy.report`) to ``--out/record.json`` at the end.

The learning rate follows each official recipe's rule for the global batch ``B`` (printed with the settings):
SimCLR's LARS ``lr = base_lr · B / 256``, SimSiam's SGD ``0.03 · B / 256``, BYOL's LARS ``0.3 · B / 256``; MoCo's
SGD 0.06 at B = 512; DeepCluster's SGD ``lr = 0.05`` at B = 256, DAC's RMSprop 1e-3 at
B = 128 and VQ-VAE's Adam 3e-4 at B = 32, none of them scaled by their official code.

Every problem with the input (an unknown method, a batch that the processes cannot share evenly, a dataset that
is not there, a knob that does not exist) is one sentence, raised before any process starts training.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from . import augment, backbones, config, data, distributed, evaluate, nbtools, optim, report, train

# ------------------------------------------------------------------------------------------ the recipes
ff = config.ff


@dataclasses.dataclass
class Built:
    """What a recipe's ``build`` returns: the method and how to train it."""
    method: torch.nn.Module
    optimizer: object
    scheduler: object = None
    views: Callable | None = None
    transform: Callable | None = None  # applied to every view (or to the batch without views)
    eval_transform: Callable | None = None   # for the kNN monitor's plain images (default: ``transform``)
    fit_kwargs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Recipe:
    """A method's defaults (``ff(fast, full)``), its learning-rate rule and how to build it."""
    knobs: dict
    build: Callable                # build(S, ctx) -> Built; ctx: channels, size, n_train, steps_per_epoch,
                                   # device, world, train_set
    lr_rule: str
    week: str
    sync_bn: bool = True           # the official multi-GPU recipe normalises over the global batch
    check: Callable | None = None  # check(S, world) -> None: method-specific input errors (one sentence)
    loader: Callable | None = None  # loader(S, train_set, device) -> a TensorLoader (default: a plain one)
    load: dict = dataclasses.field(default_factory=dict)   # data.load_splits keywords (DAC: 28×28 grey)


def _backbone(S, channels: int) -> torch.nn.Module:
    if S.backbone == "small_cnn":
        return backbones.SmallCNN(channels)
    return backbones.ResNet18Cifar(channels, zero_init_residual=S["zero_init_residual"] if "zero_init_residual" in S
                                   else False)


def _build_simclr(S, ctx) -> Built:
    from .methods.simclr import SimCLR

    method = SimCLR(_backbone(S, ctx["channels"]), tau=S.tau, proj_dim=S.proj_dim, loss_scale=S.loss_scale,
                    gather=True).to(ctx["device"])
    norm = data.MEAN_STD[S.dataset]
    views = augment.TwoViews(augment.simclr(ctx["size"], strength=S.color_strength, blur=S.blur, normalize=norm))
    ev = augment.Normalize(*norm)                                # the views normalise; plain images need it too
    if S.optimizer != "lars":
        return Built(method, optim.make_optimizer(method, S.optimizer, S.lr, weight_decay=S.weight_decay), None, views,
                     eval_transform=ev)
    peak = optim.scaled_lr(S.lr, S.batch_size, "linear")        # the global batch: lr = base · B / 256
    opt = optim.make_optimizer(method, "lars", peak, momentum=0.9, weight_decay=S.weight_decay)
    steps = ctx["steps_per_epoch"]
    sched = optim.warmup_cosine(opt, total_steps=steps * S.epochs, warmup_steps=round(S.warmup_epochs * steps),
                                peak_lr=peak)
    return Built(method, opt, sched, views, eval_transform=ev)


def _dc_loader(S, train_set, device):
    from .methods.deepcluster import ClusterLoader

    return ClusterLoader(train_set, S.batch_size, reassign=S.reassign, device=device, seed=S.seed)


def _dc_check(S, world) -> None:
    if S.sobel and S.backbone != "small_cnn":
        raise ValueError(f"sobel=True is not allowed with --backbone {S.backbone}: the Sobel front end is built for "
                         f"small_cnn (SobelCNN); use --backbone small_cnn or sobel=false.")


def _build_deepcluster(S, ctx) -> Built:
    from .methods.deepcluster import DeepCluster, SobelCNN

    backbone = SobelCNN() if S.sobel else _backbone(S, ctx["channels"])
    norm = augment.Normalize(*data.MEAN_STD[S.dataset])
    method = DeepCluster(backbone, ctx["n_train"], k=S.k, mlp_dim=S.mlp_dim, pca_dim=S.pca_dim,
                         kmeans_iters=S.kmeans_iters, top_lr=S.lr, top_weight_decay=S.weight_decay, seed=S.seed,
                         transform=norm).to(ctx["device"])
    opt = torch.optim.SGD(method.trunk_parameters(), lr=S.lr, momentum=S.momentum, weight_decay=S.weight_decay)
    crop = [augment.RandomResizedCrop(ctx["size"], scale=tuple(S.crop_scale))]
    views = augment.Compose(crop + ([augment.RandomHorizontalFlip()] if ctx["channels"] == 3 else [])) \
        if S.augment else None
    return Built(method, opt, None, views, transform=norm)


def _build_dac(S, ctx) -> Built:
    from .methods.dac import DAC, build_network, lambda_schedule

    backbone, head = build_network(S.arch, ctx["channels"], S.k, bn=S.bn, width=S.width)
    method = DAC(backbone, head, lambda_schedule(S.epochs, S.lambda_step)).to(ctx["device"])
    opt = torch.optim.RMSprop(method.parameters(), lr=S.lr, alpha=S.rmsprop_rho)
    mean = float(ctx["train_set"].float().mean())                          # the global mean of the images
    return Built(method, opt, None, None, transform=lambda t: t - mean)      # mnist.py: minus the global mean


def _build_vqvae(S, ctx) -> Built:
    from .methods.vqvae import build_vqvae

    variance = float(ctx["train_set"].float().var())                      # Sonnet: np.var(train images / 255)
    method = build_vqvae(in_channels=ctx["channels"], hidden=S.hidden, res_hidden=S.res_hidden,
                         num_res_layers=S.res_layers, num_codes=S.num_codes, code_dim=S.code_dim, beta=S.beta,
                         ema=S.codebook == "ema", decay=S.decay, eps=S.eps, debias=S.debias,
                         restart_after=S.restart_after, data_variance=variance).to(ctx["device"])
    return Built(method, torch.optim.Adam(method.parameters(), lr=S.lr), None, None,
                 transform=lambda t: t - 0.5)                                  # Sonnet: x / 255 − 0.5


def _moco_check(S, world) -> None:
    if S.K % S.batch_size:
        raise ValueError(f"K={S.K} is not allowed with the global batch {S.batch_size}: MoCo enqueues the keys of "
                         f"every process at once, so the queue length must be a multiple of the global batch "
                         f"(e.g. K={max(1, S.K // S.batch_size) * S.batch_size}).")
    local = S.batch_size // world
    if local % S.bn_splits:
        raise ValueError(f"bn_splits={S.bn_splits} is not allowed with {local} images per process: SplitBatchNorm "
                         f"needs the per-process batch to be a multiple of the number of splits.")


def _build_moco(S, ctx) -> Built:
    from .methods.moco import MoCo

    method = MoCo(_backbone(S, ctx["channels"]), dim=S.dim, K=S.K, m=S.m, T=S.T, bn_splits=S.bn_splits,
                  shuffle=S.shuffle, symmetric=S.symmetric, mlp=S.mlp, queue_seed=S.seed).to(ctx["device"])
    norm = data.MEAN_STD[S.dataset]
    views = augment.TwoViews(augment.simclr(ctx["size"], strength=0.5, normalize=norm))   # the demo's transform
    if S.optimizer == "sgd":
        opt = optim.make_optimizer(method, "sgd", S.lr, momentum=0.9, weight_decay=S.weight_decay)
    else:
        opt = optim.make_optimizer(method, S.optimizer, S.lr, weight_decay=S.weight_decay)
    sched = optim.warmup_cosine(opt, total_steps=ctx["steps_per_epoch"] * S.epochs) if S.schedule == "cosine" else None
    return Built(method, opt, sched, views, eval_transform=augment.Normalize(*norm))


def _build_simsiam(S, ctx) -> Built:
    from .methods.simsiam_byol import SimSiam

    method = SimSiam(_backbone(S, ctx["channels"]), dim=S.dim, pred_dim=S.pred_dim,
                     num_layers=S.proj_layers).to(ctx["device"])
    norm = data.MEAN_STD[S.dataset]
    views = augment.TwoViews(augment.moco_v2(ctx["size"], blur=False, normalize=norm))  # the paper's CIFAR views
    peak = optim.scaled_lr(S.lr, S.batch_size, "linear")                                # lr = base · B / 256
    opt = torch.optim.SGD(method.param_groups(), lr=peak, momentum=0.9, weight_decay=S.weight_decay)
    sched = optim.warmup_cosine(opt, total_steps=ctx["steps_per_epoch"] * S.epochs,
                                fixed_lr_groups=[1] if S.fix_pred_lr else ())
    return Built(method, opt, sched, views, eval_transform=augment.Normalize(*norm))


def _build_byol(S, ctx) -> Built:
    from .methods.simsiam_byol import BYOL

    method = BYOL(_backbone(S, ctx["channels"]), proj_dim=S.proj_dim, hidden_dim=S.hidden_dim,
                  base_ema=S.base_ema, total_steps=ctx["steps_per_epoch"] * S.epochs).to(ctx["device"])
    norm = data.MEAN_STD[S.dataset]
    views = augment.TwoViews(*augment.byol(ctx["size"], normalize=norm))               # asymmetric views
    peak = optim.scaled_lr(S.lr, S.batch_size, "linear")
    online = torch.nn.ModuleList([method.backbone, method.projector, method.predictor])
    opt = optim.make_optimizer(online, "lars", peak, momentum=0.9, weight_decay=S.weight_decay)
    steps = ctx["steps_per_epoch"]
    sched = optim.warmup_cosine(opt, total_steps=steps * S.epochs, warmup_steps=round(S.warmup_epochs * steps),
                                peak_lr=peak)
    return Built(method, opt, sched, views, eval_transform=augment.Normalize(*norm))


def _swav_check(S, world) -> None:
    if S.queue_length and S.queue_length % S.batch_size:
        raise ValueError(f"queue_length={S.queue_length} is not allowed with the global batch {S.batch_size}: "
                         f"SwAV's queue is a whole number of batches (e.g. "
                         f"{max(1, S.queue_length // S.batch_size) * S.batch_size}).")


def _build_swav(S, ctx) -> Built:
    from .methods.swav import LARC, SwAV

    method = SwAV(_backbone(S, ctx["channels"]), n_prototypes=S.n_prototypes, proj_dim=S.proj_dim,
                  hidden_dim=S.hidden_dim, temperature=S.temperature, epsilon=S.epsilon, n_iters=S.sinkhorn_iters,
                  crops_for_assign=tuple(range(S.n_large)), freeze_prototypes_niters=S.freeze_prototypes_niters,
                  queue_length=S.queue_length, epoch_queue_starts=S.epoch_queue_starts).to(ctx["device"])
    norm = data.MEAN_STD[S.dataset]
    views = augment.multicrop(ctx["size"], S.small_size, n_small=S.n_small, n_large=S.n_large,
                              scale_large=tuple(S.scale_large), scale_small=tuple(S.scale_small),
                              strength=S.color_strength, blur=S.blur, normalize=norm)
    if S.optimizer != "larc":
        return Built(method, optim.make_optimizer(method, S.optimizer, S.lr, weight_decay=S.weight_decay), None,
                     views, eval_transform=augment.Normalize(*norm))
    peak = optim.scaled_lr(S.lr, S.batch_size, "linear") if S.scale_lr else S.lr
    opt = LARC(method.parameters(), lr=peak, momentum=0.9, weight_decay=S.weight_decay)
    sched = optim.warmup_cosine(opt, total_steps=ctx["steps_per_epoch"] * S.epochs, peak_lr=peak, final_lr=S.final_lr)
    return Built(method, opt, sched, views, eval_transform=augment.Normalize(*norm))


COMMON = {
    "dataset": "cifar10",
    "n_train": ff(512, None),                       # None: the whole training split
    "n_test": ff(256, None),
    "backbone": ff("small_cnn", "resnet18"),
    "knn_every": ff(1, 5),
}

RECIPES: dict[str, Recipe] = {
    # week08_simclr/08_simclr_code_analysis.ipynb, full mode (google-research/simclr's CIFAR-10 README command)
    "simclr": Recipe(
        knobs={**COMMON, "epochs": ff(2, 200), "batch_size": ff(64, 512), "optimizer": ff("adam", "lars"),
               "lr": ff(2e-3, 1.0), "weight_decay": ff(1e-6, 1e-4), "warmup_epochs": ff(0, 10),
               "loss_scale": ff(1.0, 2.0), "tau": 0.5, "proj_dim": 128, "color_strength": 0.5, "blur": False,
               "zero_init_residual": ff(False, True)},
        build=_build_simclr, week="week08_simclr",
        lr_rule="LARS, lr = base_lr · B / 256 (linear scaling; google-research/simclr run.py), warm-up 10 "
                "epochs, then cosine; with --optimizer adam the lr is used as given"),
    # week03_deepcluster/03_deepcluster_code_analysis.ipynb, full mode (facebookresearch/deepcluster main.py)
    "deepcluster": Recipe(
        knobs={**COMMON, "sobel": False, "mlp_dim": ff(128, 512), "k": 100, "pca_dim": 32, "kmeans_iters": 20,
               "epochs": ff(2, 200), "reassign": ff(1.0, 1.0), "batch_size": ff(64, 256), "lr": 0.05,
               "momentum": 0.9, "weight_decay": 1e-5, "augment": ff(False, True), "crop_scale": (0.6, 1.0)},
        build=_build_deepcluster, loader=_dc_loader, check=_dc_check, week="week03_deepcluster",
        lr_rule="SGD lr 0.05, momentum 0.9, for the official batch 256; the official code does not scale it with "
                "the batch (scale it linearly, lr · B / 256, if you change the batch); k-means once per epoch on "
                "rank 0 over the features gathered from every process"),
    # week06_moco/06_moco_code_analysis.ipynb, full mode (facebookresearch/moco's CIFAR-10 demo)
    "moco": Recipe(
        knobs={**COMMON, "epochs": ff(2, 200), "batch_size": ff(64, 512), "optimizer": ff("adam", "sgd"),
               "lr": ff(2e-3, 0.06), "weight_decay": ff(1e-6, 5e-4), "schedule": ff("constant", "cosine"),
               "dim": 128, "K": ff(1_024, 4_096), "m": 0.99, "T": 0.1, "bn_splits": 8, "shuffle": True,
               "symmetric": False, "mlp": False},
        build=_build_moco, check=_moco_check, week="week06_moco", sync_bn=False,
        lr_rule="SGD lr 0.06 at B = 512 (the CIFAR demo; ImageNet main_moco.py: 0.03 at B = 256), cosine, not "
                "scaled automatically (scale it linearly with B); no SyncBatchNorm: MoCo's Shuffle-BN shuffles the "
                "key batch across processes (and SplitBatchNorm splits each process's batch, the demo's 8)"),
    # week07_swav/07_swav_code_analysis.ipynb, full mode (facebookresearch/swav main_swav.py, the bs-256 script)
    "swav": Recipe(
        knobs={**COMMON, "n_large": 2, "n_small": ff(0, 4), "small_size": 16, "scale_large": [0.14, 1.0],
               "scale_small": [0.05, 0.14], "color_strength": 0.5, "blur": False, "hidden_dim": ff(512, 2048),
               "proj_dim": 128, "n_prototypes": ff(100, 3000), "temperature": 0.1, "epsilon": ff(0.03, 0.05),
               "sinkhorn_iters": 3, "freeze_prototypes_niters": ff(15, 195), "queue_length": ff(0, 3840),
               "epoch_queue_starts": 15, "batch_size": ff(64, 256), "epochs": ff(2, 200),
               "optimizer": ff("adam", "larc"), "lr": ff(2e-3, 0.6), "final_lr": ff(2e-3, 0.0006),
               "weight_decay": 1e-6, "scale_lr": False},
        build=_build_swav, check=_swav_check, week="week07_swav",
        lr_rule="LARC over SGD (trust 0.001, no clipping, every parameter), base lr 0.6 at B = 256 (the bs-256 "
                "script), cosine to 0.0006 per iteration; the official scripts set the lr per batch size rather "
                "than by a formula (4.8 at B = 4096): scale_lr=true scales it linearly with B / 256; the Sinkhorn "
                "sums are all-reduced over the processes"),
    # the SimSiam paper's CIFAR-10 setup (Appendix D; facebookresearch/simsiam main_simsiam.py for the rest)
    "simsiam": Recipe(
        knobs={**COMMON, "epochs": ff(2, 800), "batch_size": ff(64, 512), "lr": 0.03, "weight_decay": 5e-4,
               "dim": 2048, "pred_dim": 512, "proj_layers": 2, "fix_pred_lr": False},
        build=_build_simsiam, week="week09_wrapup",
        lr_rule="SGD lr = 0.03 · B / 256 (the paper's CIFAR rule; ImageNet: 0.05 · B / 256), momentum 0.9, "
                "cosine; fix_pred_lr=true keeps the predictor's lr constant (--fix-pred-lr)"),
    # BYOL's 300-epoch preset (google-deepmind/deepmind-research byol/configs/byol.py) on CIFAR-10
    "byol": Recipe(
        knobs={**COMMON, "epochs": ff(2, 300), "batch_size": ff(64, 512), "lr": 0.3, "weight_decay": 1e-6,
               "warmup_epochs": ff(0, 10), "base_ema": 0.99, "proj_dim": 256, "hidden_dim": ff(512, 4096)},
        build=_build_byol, week="week09_wrapup",
        lr_rule="LARS lr = base · B / 256 (the 300-epoch preset: base 0.3, wd 1e-6, τ_base 0.99), 10 warm-up "
                "epochs, cosine; the target's EMA rate rises from τ_base to 1 on a cosine over the whole run"),
    # week02_dac/02_dac_code_analysis.ipynb, full mode (DAC-tensorflow MNIST/mnist.py): the adaptive-λ DAC run
    "dac": Recipe(
        knobs={"dataset": "mnist", "n_train": ff(512, None), "n_test": ff(256, None), "knn_every": ff(1, 5),
               "arch": ff("small_cnn", "mnist_network"), "width": 32, "bn": "batch", "k": 10,
               "optimizer": "rmsprop", "lr": 1e-3, "rmsprop_rho": 0.9, "batch_size": ff(64, 128),
               "epochs": ff(2, 46), "lambda_step": ff(None, 1.1 * 0.009)},
        build=_build_dac, week="week02_dac", sync_bn=False, load={"size": 28, "channels": 1},
        lr_rule="RMSprop lr 1e-3 at the official batch 128 (Keras-1 defaults), not scaled; the pairs are formed "
                "within each process's shard of the batch (the official code runs on one device) and its "
                "Keras-1 BatchNorm uses the statistics of that shard"),
    # week04_vqvae/04_vqvae_code_analysis.ipynb, full mode (Sonnet's vqvae_example.ipynb)
    "vqvae": Recipe(
        knobs={"dataset": "cifar10", "n_train": ff(512, 40_000), "n_test": ff(256, None), "knn_every": ff(1, 4),
               "hidden": ff(32, 128), "res_hidden": ff(16, 32), "res_layers": 2, "num_codes": ff(32, 512),
               "code_dim": ff(16, 64), "beta": 0.25, "codebook": "ema", "decay": 0.99, "eps": 1e-5,
               "debias": True, "restart_after": ff(20, 0), "batch_size": 32, "lr": ff(2e-3, 3e-4),
               "epochs": ff(2, 8)},
        build=_build_vqvae, week="week04_vqvae", sync_bn=False,
        lr_rule="Adam lr 3e-4 at Sonnet's batch 32, not scaled (the official example runs on one device); under "
                "DDP the EMA codebook follows rank 0's shard (DDP broadcasts rank 0's buffers at every step)"),
}


# ------------------------------------------------------------------------------------------ arguments
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sslstudy train", description=__doc__.split("\n\n")[0])
    p.add_argument("--method", required=True, help=f"one of {', '.join(RECIPES)}")
    p.add_argument("--mode", default="full", help="full (default: the method's full-mode settings) or fast (a "
                                                  "smoke run: tiny data, 2 epochs)")
    p.add_argument("--dataset", help="mnist, fashion_mnist or cifar10 (default cifar10)")
    p.add_argument("--backbone", help="small_cnn or resnet18 (the CIFAR ResNet-18)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="the global batch, shared by the processes")
    p.add_argument("--lr", type=float, help="the base learning rate (before the recipe's batch scaling)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="+", default=[], metavar="KNOB=VALUE",
                   help="any other knob of the method's settings, e.g. --set tau=0.2 n_train=4000")
    p.add_argument("--out", default="runs", help="checkpoints and the run record go to OUT/<method>-<dataset>/")
    p.add_argument("--stop-after-epochs", type=int, default=None,
                   help="stop as if killed after this many epochs (a resume test); the next run resumes")
    p.add_argument("--amp", choices=("auto", "on", "off"), default="auto",
                   help="mixed precision (auto: on CUDA; bf16 where supported)")
    p.add_argument("--channels-last", action="store_true", help="channels_last memory format (CUDA)")
    p.add_argument("--compile", action="store_true", help="torch.compile the backbone (nn.Module.compile)")
    return p


def resolve(args, world: int) -> tuple[Recipe, config.Settings]:
    """The settings of this run from the recipe, the mode and the command line; every input error is one
    sentence (ValueError) here, before any process starts."""
    if args.method not in RECIPES:
        raise ValueError(f"--method {args.method!r} is not allowed: it must be one of {', '.join(RECIPES)}.")
    if args.mode not in ("fast", "full"):
        raise ValueError(f"--mode {args.mode!r} is not allowed: it must be fast or full.")
    recipe = RECIPES[args.method]
    S = config.Settings(f"train.{args.method}", args.mode, args.seed, recipe.knobs, verbose=False)
    given = {"dataset": args.dataset, "backbone": args.backbone, "epochs": args.epochs,
             "batch_size": args.batch_size, "lr": args.lr}
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"--set {item!r} is not allowed: write KNOB=VALUE, e.g. tau=0.2.")
        k, v = item.split("=", 1)
        given.update(nbtools.parse_params([(k.strip(), v.strip())]))   # JSON / literal, else text
    given = {k: v for k, v in given.items() if v is not None}
    unknown = sorted(set(given) - set(S))
    if unknown:
        raise ValueError(f"The knob {unknown[0]!r} does not exist for {args.method}: its knobs are "
                         f"{', '.join(sorted(S))}.")
    knobs = {**S.as_dict(), **given}
    if knobs["dataset"] not in ("mnist", "fashion_mnist", "cifar10"):
        raise ValueError(f"--dataset {knobs['dataset']!r} is not allowed: it must be mnist, fashion_mnist or cifar10.")
    if "backbone" in knobs and knobs["backbone"] not in ("small_cnn", "resnet18"):
        raise ValueError(f"--backbone {knobs['backbone']!r} is not allowed: it must be small_cnn or resnet18.")
    for k in ("epochs", "batch_size"):
        if isinstance(knobs[k], bool) or not isinstance(knobs[k], int) or knobs[k] < 1:
            raise ValueError(f"--{k.replace('_', '-')} {knobs[k]!r} is not allowed: it must be a positive integer.")
    if knobs["batch_size"] % world:
        raise ValueError(f"--batch-size {knobs['batch_size']} is not allowed with {world} processes: the global "
                         f"batch must be a multiple of the number of processes.")
    if data.locate(knobs["dataset"]) is None:
        raise ValueError(f"The dataset {knobs['dataset']!r} is not there: put it in SSL_DATA_DIR or run "
                         f"`python -m sslstudy data --download {knobs['dataset']}` first.")
    if given:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # the table marks the changed knobs with *
            S.update(**given)
    if recipe.check is not None:
        recipe.check(S, world)
    return recipe, S


# ------------------------------------------------------------------------------------------ processes
def _world_from_env() -> tuple[int, int, int]:
    """(rank, local rank, world size) as torchrun sets them; (0, 0, 1) for a plain run."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def _start_processes(local_rank: int, world: int) -> torch.device:
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local_rank}") if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1:
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    if not cuda and "SSL_THREADS" not in os.environ:     # several CPU processes share the cores
        local = int(os.environ.get("LOCAL_WORLD_SIZE", world))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
    return device


def _load_data(S, recipe: Recipe):
    train_set, test_set = data.load_splits(S.dataset, **recipe.load)
    if S.n_train is not None and S.n_train < len(train_set):
        train_set = data.balanced_subset(train_set, S.n_train, seed=S.seed)
    if S.n_test is not None and S.n_test < len(test_set):
        test_set = data.balanced_subset(test_set, S.n_test, seed=0)
    return train_set, test_set


class _Features(torch.nn.Module):
    """``method.features(x)`` as a module, for the kNN monitor (VQ-VAE's are its flattened z_e)."""

    def __init__(self, method):
        super().__init__()
        self.method = method

    def forward(self, x):
        return self.method.features(x)


def _sha256(path) -> str | None:
    """The checkpoint's SHA-256, for publishing it as a release asset (``results/checkpoints.json``)."""
    return report.sha256_of(path) if path is not None and Path(path).is_file() else None


def _plain_loader(S, train_set, device):
    return data.TensorLoader(train_set, S.batch_size, device=device, seed=S.seed)


def run(args) -> dict | None:
    """Train one method as ``args`` say (in this process; under torchrun, in each). Returns the run record on
    rank 0 (None on the others)."""
    rank, local_rank, world = _world_from_env()
    recipe, S = resolve(args, world)                     # every input error before any process starts
    device = _start_processes(local_rank, world)
    try:
        return _train(args, recipe, S, device, rank, world)
    finally:
        if distributed.is_dist():
            torch.distributed.destroy_process_group()


def _train(args, recipe: Recipe, S, device, rank: int, world: int) -> dict | None:
    t_start = time.perf_counter()
    say = print if rank == 0 else (lambda *a, **k: None)
    config.seed_everything(S.seed + rank)                # augmentations differ between processes
    train_set, test_set = _load_data(S, recipe)
    loader = (recipe.loader or _plain_loader)(S, train_set, device)
    ctx = {"channels": train_set.shape[0], "size": train_set.shape[-1], "n_train": len(train_set),
           "steps_per_epoch": len(loader), "device": device, "world": world, "train_set": train_set}
    torch.manual_seed(S.seed)                            # the same initial weights everywhere (DDP checks it)
    built = recipe.build(S, ctx)
    method = built.method
    if device.type == "cuda" and world > 1 and recipe.sync_bn:
        torch.nn.SyncBatchNorm.convert_sync_batchnorm(method)
    if args.channels_last and device.type == "cuda":
        method.to(memory_format=torch.channels_last)
    if args.compile:
        method.backbone.compile()
    out = Path(args.out) / f"{args.method}-{S.dataset}"
    say(f"sslstudy train: {args.method} on {S.dataset} ({len(train_set):,} images), {world} process(es) on "
        f"{device.type}, global batch {S.batch_size} ({loader.local_batch_size} per process), {S.mode} settings")
    say(S.table())
    say(f"learning-rate rule: {recipe.lr_rule}")
    features = _Features(method)                         # what the method evaluates: method.features(x)
    ev = built.eval_transform or built.transform
    monitor = evaluate.KNNMonitor(features, train_set, test_set, transform=ev, every=S.knn_every)
    amp = {"auto": None, "on": True, "off": False}[args.amp]
    history = train.fit_method(method, loader, S.epochs, built.optimizer, views=built.views, transform=built.transform,
                               scheduler=built.scheduler, on_epoch=monitor, run_config=S, name=args.method,
                               checkpoint_dir=out / "checkpoints", amp=amp,
                               stop_after_epochs=args.stop_after_epochs, **built.fit_kwargs)
    if getattr(history, "interrupted", False):
        say(f"stopped after epoch {history.last_epoch + 1} as asked; the same command resumes from "
            f"{history.checkpoint}")
        return None
    if S.epochs % S.knn_every:                           # the last epoch had no kNN: measure it now
        knn = evaluate.KNNMonitor(features, train_set, test_set, transform=ev)(0)
    else:
        knn = {"knn": history.last("knn")}
    if rank != 0:
        return None
    rec = report.record(f"train {args.method}", S, scores={"knn": knn["knn"]}, rows=history.rows,
                        wall_seconds=time.perf_counter() - t_start, command=" ".join(sys.argv),
                        notes={"processes": world, "device": device.type, "global_batch": S.batch_size,
                               "checkpoint": str(history.checkpoint), "checkpoint_sha256": _sha256(history.checkpoint)},
                        headline=f"{args.method} on {S.dataset}: kNN {knn['knn']:.3f} after {S.epochs} epochs "
                                 f"({world} process(es), {device.type})")
    path = report.save([rec], out / "record.json")
    print(f"{rec['headline']} → {path}")
    return rec


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args)
    except ValueError as e:
        if _world_from_env()[0] == 0:
            print(f"sslstudy train: {e}", file=sys.stderr)
        return 2
    return 0
