"""SwAV's fast setting, one knob at a time: the exploration behind week 7's choice of ε = 0.03.

Trains the week-7 code analysis's fast-mode SwAV (``sslstudy.methods.swav.SwAV`` on ``backbones.SmallCNN(3)``,
the CIFAR-10 part: 4,000 class-balanced training images of the seed, the first 1,000 balanced test images; head
128 → 512 → 128, 2 × 32-pixel crops of scale 0.14–1 and colour strength 0.5, T 0.1, 3 Sinkhorn iterations,
prototypes frozen for 15 steps, batch 256, Adam 2e-3, wd 1e-6, 6 epochs = 90 steps) with the knobs given by
``--set`` changed, then prints one JSON line: the kNN accuracy (k 200, t 0.1) of the trained backbone and of the
same initial weights untrained, their difference, the final loss against ln K and the training seconds.

    SSL_DATA_DIR=<folder with cifar10.npz> SSL_THREADS=2 python benchmarks/swav_fast_sweep.py --seed 2 --set eps=0.03

Knobs (``--set NAME=VALUE``, repeatable): ``K`` prototypes (100), ``bs`` batch (256), ``epochs`` (6), ``lr``
(2e-3), ``eps`` ε (0.05: the official default; the notebook's fast mode uses 0.03), ``T`` (0.1), ``qlen`` queue
length (0) and ``qstart`` the epoch it starts (15), ``freeze`` frozen-prototype steps (15), ``n_small`` 16-pixel
crops (0). Rows of these runs are stored in ``src/sslstudy/results/week07_swav.json`` ("exploration" and "ε
ablation"); the notebook shows them, it does not run this script.
"""

import argparse
import json
import math
import time

import torch

from sslstudy import augment, backbones, config, data, evaluate, optim, train
from sslstudy.methods.swav import SwAV

DEFAULTS = {"K": 100, "bs": 256, "epochs": 6, "lr": 2e-3, "eps": 0.05, "T": 0.1, "qlen": 0, "qstart": 15,
            "freeze": 15, "n_small": 0}


def parse_set(items) -> dict:
    knobs = dict(DEFAULTS)
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in DEFAULTS:
            raise SystemExit(f"--set {item!r} is not allowed: use NAME=VALUE with NAME one of {sorted(DEFAULTS)}.")
        try:
            number = float(value)
        except ValueError:
            raise SystemExit(f"--set {item!r}: {value!r} is not a number.") from None
        if isinstance(DEFAULTS[name], int):
            if not number.is_integer():
                raise SystemExit(f"--set {item!r}: {name} takes a whole number, not {value!r}.")
            number = int(number)
        knobs[name] = number
    return knobs


def run(seed: int, knobs: dict) -> dict:
    config.setup(mode="fast", seed=seed)
    train_set, test_set = data.load_splits("cifar10")
    train_set = data.balanced_subset(train_set, 4_000, seed=seed)
    test_set = data.balanced_subset(test_set, 1_000, seed=0)

    def norm(x):
        return data.normalize(x, train_set.name)

    views = augment.multicrop(32, 16, n_small=knobs["n_small"], n_large=2, scale_large=(0.14, 1.0),
                              scale_small=(0.05, 0.14), strength=0.5, blur=False)
    torch.manual_seed(seed)
    model = SwAV(backbones.SmallCNN(3), n_prototypes=knobs["K"], proj_dim=128, hidden_dim=512,
                 temperature=knobs["T"], epsilon=knobs["eps"], n_iters=3, crops_for_assign=(0, 1),
                 freeze_prototypes_niters=knobs["freeze"], queue_length=knobs["qlen"] - knobs["qlen"] % knobs["bs"],
                 epoch_queue_starts=knobs["qstart"])
    untrained = backbones.SmallCNN(3)
    untrained.load_state_dict(model.backbone.state_dict())
    loader = data.TensorLoader(train_set, knobs["bs"], seed=seed)
    optimizer = optim.make_optimizer(model, "adam", knobs["lr"], weight_decay=1e-6)
    t0 = time.perf_counter()
    history = train.fit_method(model, loader, knobs["epochs"], optimizer, views=views, transform=norm,
                               name=f"swav-sweep-{seed}", checkpoint=False, progress=False)
    seconds = time.perf_counter() - t0

    def knn(encoder):
        f_train, f_test = (evaluate.extract_features(encoder, s, transform=norm) for s in (train_set, test_set))
        return evaluate.knn_accuracy(f_train, train_set.y, f_test, test_set.y)

    trained, base = knn(model.backbone), knn(untrained)
    return {"seed": seed, "knobs": knobs, "SwAV kNN": round(trained, 3), "random init kNN": round(base, 3),
            "kNN margin": round(trained - base, 3), "final loss": round(history.rows[-1]["loss"], 4),
            "ln K": round(math.log(knobs["K"]), 3), "train seconds": round(seconds, 1)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    out = run(args.seed, parse_set(args.set))
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
