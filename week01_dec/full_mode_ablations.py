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
from sslstudy.methods.dec import ClusteringLayer, embed, fit_dec, flatten_images, init_centers, pretrain_end_to_end


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
                        run_config={"notebook": "week01_dec", "mode": cfg.mode, "seed": cfg.seed, "n": len(images),
                                    "data": images.name, "epochs": pretrain_epochs, "opt": "adam", "lr": 1e-3, "bs": batch_size})
    pretrained = {k: v.clone() for k, v in ae.state_dict().items()}
    centers0, ae_pred = init_centers(embed(ae, x), n_clusters, n_init=20, seed=cfg.seed)
    rows = [{"variant": "start: AE + k-means", "iterations": 0, **evaluate.clustering_scores(y, ae_pred)}]
    print(rows[0])

    epoch_iters = len(data.TensorLoader(x, batch_size))
    variants = [("P per mini-batch", {"batch_target": True, "update_interval": update_interval}),
                (f"P every {update_interval} iterations (official)", {"update_interval": update_interval}),
                (f"P every epoch ({epoch_iters} iterations)", {"update_interval": epoch_iters}),
                ("alpha = 0.5", {"alpha": 0.5, "update_interval": update_interval}),
                ("alpha = 10", {"alpha": 10.0, "update_interval": update_interval})]
    for label, kw in variants:
        a_ = kw.pop("alpha", alpha)
        model = backbones.DECAutoencoder((x.shape[1], 500, 500, 2000, 10)).to(cfg.device)
        model.load_state_dict(pretrained)
        cluster = ClusteringLayer(n_clusters, model.feature_dim, a_).to(cfg.device)
        with torch.no_grad():
            cluster.centers.copy_(centers0)
        res = fit_dec(model, cluster, x, tol=0.0, max_iter=args.iterations, batch_size=batch_size, y=y,
                      seed=cfg.seed, name=label, **kw)
        rows.append({"variant": label, "iterations": res.iterations, "seconds": round(res.seconds, 1),
                     **evaluate.clustering_scores(y, res.pred)})
        print(rows[-1])
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
