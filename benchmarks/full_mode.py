"""Full mode on a GPU, measured: the one prepared script to run where a GPU machine is lent.

For each method of ``python -m sslstudy train`` (its full-mode recipe: CIFAR ResNet-18, the week's batch and
optimiser) it trains a fixed number of epochs on the data that travels with the call (the CIFAR-10 part of 4,000
images by default; ``--dataset fashion_mnist`` for 60,000 grey images) and prints, per method: seconds per epoch
(the last epoch, so compilation and warm-up are excluded), source images per second, the kNN accuracy after those
epochs, and the throughput against the device's physical limit: the FLOPs one epoch needs (a ResNet-18 CIFAR
forward pass is ≈ 0.56 GFLOP per 32×32 view, a training step ≈ 3 forward passes; views per image from the
recipe) divided by the epoch's time, as a fraction of the peak bf16 rate given with ``--peak-tflops`` (H100 / H200
SXM dense bf16: 989). Each run's record is written by the command itself (``OUT/<method>-<dataset>/record.json``)
and the summary to ``OUT/full_mode.json``.

    python benchmarks/full_mode.py --out build/full_mode --epochs 5 [--methods simclr deepcluster] [--amp on]

Nothing is asserted: the numbers are for the README's results table ("full mode, measured on …").
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESNET18_CIFAR_GFLOP = 0.56          # forward pass, one 32×32 image (multiply-adds × 2)
VIEWS = {"simclr": 2, "deepcluster": 1}


def main(argv=None) -> dict:
    from sslstudy import scale

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", default=sorted(scale.RECIPES))
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--out", default="build/full_mode")
    p.add_argument("--amp", default="auto", choices=("auto", "on", "off"))
    p.add_argument("--peak-tflops", type=float, default=989.0, help="the device's dense bf16 peak, TFLOP/s")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--mode", default="full", choices=("full", "fast"), help="fast: a smoke run of this script")
    args = p.parse_args(argv)
    rows = []
    for method in args.methods:
        t0 = time.perf_counter()
        cmd = ["--method", method, "--mode", args.mode, "--dataset", args.dataset, "--epochs", str(args.epochs), "--out", args.out,
               "--amp", args.amp, "--set", f"knn_every={args.epochs}"] + (["--compile"] if args.compile else [])
        rec = scale.run(scale.parser().parse_args(cmd))
        if rec is None:
            continue
        seconds = rec["rows"][-1]["seconds"]
        n = rec["settings"].get("n_train") or _train_size(args.dataset)
        views = VIEWS.get(method, 2)
        tflops = n * views * 3 * RESNET18_CIFAR_GFLOP / seconds / 1e3
        rows.append({"method": method, "dataset": args.dataset, "epochs": args.epochs,
                     "seconds per epoch": round(seconds, 2), "images per s": round(n / seconds),
                     "kNN": rec["scores"]["knn"], "TFLOP/s": round(tflops, 1),
                     "of peak": round(tflops / args.peak_tflops, 4), "wall s": round(time.perf_counter() - t0, 1)})
        print(rows[-1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "full_mode.json").write_text(json.dumps(rows, indent=1) + "\n")
    return {"rows": rows}


def _train_size(dataset: str) -> int:
    from sslstudy import data

    return len(data.load(dataset, "train"))


if __name__ == "__main__":
    main()
