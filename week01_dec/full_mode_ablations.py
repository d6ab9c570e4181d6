"""Week 1 ablations at full scale (MNIST 70k), outside the notebook.

The code-analysis notebook runs its ablations at smoke size in fast mode; in full mode it runs them at full scale
after the main run (hours on a CPU). This script runs only the clustering-phase ablations (where P comes from, and
alpha), starting from the same pretrained autoencoder as the notebook's full mode: with the same
``SSL_CHECKPOINT_DIR`` it resumes the notebook's finished pretraining checkpoint instead of training again.
It prints a table and writes JSON rows (what ``full_mode_results.json`` stores under ``full_mode_ablations``).

    SSL_CHECKPOINT_DIR=<dir used by the notebook> python week01_dec/full_mode_ablations.py --seed 0 --out runs.json
"""
import argparse
import json
import platform
import time
from pathlib import Path

import torch

from sslstudy import backbones, config, data, evaluate
from sslstudy.methods.dec import (clustering_ablations, embed, flatten_images, init_centers, pretrain_end_to_end,
                                  pretrain_run_config)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iterations", type=int, default=4_000, help="clustering iterations per variant (notebook's full mode: 4000)")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--pretrain-epochs", type=int, default=100, help="as the notebook's pretrain_epochs (full mode: 100)")
    ap.add_argument("--out", type=Path, default=None, help="write the rows here as JSON")
    args = ap.parse_args(argv)
    if args.iterations < 1:
        ap.error(f"--iterations {args.iterations} is not allowed: it must be a positive number of iterations.")
    if args.pretrain_epochs < 1:
        ap.error(f"--pretrain-epochs {args.pretrain_epochs} is not allowed: it must be a positive number of epochs.")

    # the notebook's full-mode settings (01_dec_code_analysis.ipynb, §1-§6)
    cfg = config.setup(mode="full", seed=args.seed)
    n_clusters, batch_size, alpha, pretrain_epochs = 10, 256, 1.0, args.pretrain_epochs
    train_set, test_set = data.load_splits(args.dataset, fallback=True, size=28, channels=1)
    images = data.concat(train_set, test_set)
    y = images.y.numpy()
    x = flatten_images(images, device=cfg.device)
    update_interval = max(1, round(160 / 273 * len(images) / batch_size))
    torch.manual_seed(cfg.seed)
    ae = backbones.DECAutoencoder((x.shape[1], 500, 500, 2000, 10)).to(cfg.device)
    pretrain_end_to_end(ae, x, pretrain_epochs, batch_size, "adam", 1e-3, seed=cfg.seed, name="dec-ae",
                        run_config=pretrain_run_config(cfg.mode, cfg.seed, len(images), images.name, pretrain_epochs,
                                                       "adam", 1e-3, batch_size))
    centers0, ae_pred = init_centers(embed(ae, x), n_clusters, n_init=20, seed=cfg.seed)
    rows = [{"variant": "start: AE + k-means", "iterations": 0, **evaluate.clustering_scores(y, ae_pred)}]
    rows += clustering_ablations(ae, centers0, x, y, update_interval, args.iterations, batch_size, alpha, cfg.seed)
    for row in rows:
        print(row)
    record = {"command": f"python week01_dec/full_mode_ablations.py --seed {args.seed} --iterations {args.iterations} "
                         f"--pretrain-epochs {args.pretrain_epochs}",
              "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, device {cfg.device}",
              "date": time.strftime("%Y-%m-%dT%H:%M UTC", time.gmtime()), "seed": cfg.seed, "n": len(images), "rows": rows}
    if args.out:
        args.out.write_text(json.dumps(record, indent=1))
        print("wrote", args.out)
    return record


if __name__ == "__main__":
    main()
