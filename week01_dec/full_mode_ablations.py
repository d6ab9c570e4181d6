"""Week 1 clustering-phase ablations at full scale (MNIST 70k), outside the notebook.

The code-analysis notebook shows this script's stored results (``report.show_stored("week01_dec", ...)``); the
smoke-size versions are unit tests (``tests/test_dec.py``). The script runs the clustering-phase ablations (where P
comes from, and alpha) from the same pretrained autoencoder as the notebook's full mode: it builds the same
settings table (``sslstudy.experiments.dec.settings``), so with the same ``SSL_CHECKPOINT_DIR`` it resumes the
notebook's finished pretraining checkpoint instead of training again. It prints a table and, with ``--save``,
adds its record to ``src/sslstudy/results/week01_dec.json`` (``report.save``).

    SSL_CHECKPOINT_DIR=<dir used by the notebook> python week01_dec/full_mode_ablations.py --seed 0 [--save]
"""
import argparse
import copy
import time

import torch

from sslstudy import backbones, config, data, evaluate, report
from sslstudy.experiments import dec as dec_exp
from sslstudy.methods.dec import flatten_images, init_centers, pretrain_end_to_end

RECORD = "DEC clustering-phase ablations, full scale, seed {seed}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iterations", type=int, default=4_000, help="clustering iterations per variant")
    ap.add_argument("--dataset", default="mnist", choices=dec_exp.DATASETS)
    ap.add_argument("--mode", default="full", choices=config.MODES, help="the settings table's mode (full: 70k)")
    ap.add_argument("--pretrain-epochs", type=int, default=None, help="as the notebook's pretrain_epochs (None: the mode's)")
    ap.add_argument("--save", action="store_true", help="add the record to the week's stored results")
    args = ap.parse_args(argv)
    if args.iterations < 1:
        ap.error(f"--iterations {args.iterations} is not allowed: it must be a positive number of iterations.")

    t0 = time.perf_counter()
    cfg = config.setup(mode=args.mode, seed=args.seed)
    S = dec_exp.settings(cfg, dataset=args.dataset, pretrain_epochs=args.pretrain_epochs)   # the notebook's table
    train_set, test_set = data.load_splits(S.dataset, fallback=True, size=28, channels=1)
    everything = data.concat(train_set, test_set)
    images = data.balanced_subset(everything, S.n_samples, seed=S.seed) if S.n_samples < len(everything) else everything
    S.update(dataset=images.name)
    dec_exp.fit_to_data(S, len(images))
    y = images.y.numpy()
    x = flatten_images(images, device=cfg.device)
    torch.manual_seed(S.seed)
    ae = backbones.DECAutoencoder((x.shape[1], *S.hidden_dims)).to(cfg.device)
    pretrain_end_to_end(ae, x, S.pretrain_epochs, S.pretrain_batch_size, S.pretrain_optimizer, S.pretrain_lr,
                        seed=S.seed, name="dec-ae", run_config=dec_exp.pretrain_settings(S))
    z0 = evaluate.extract_features(ae, x, batch_size=2048)
    centers0, ae_pred = init_centers(z0, S.n_clusters, n_init=S.kmeans_restarts, seed=S.seed)
    rows = [{"variant": "start: AE + k-means", "iterations": 0, **evaluate.clustering_scores(y, ae_pred)}]
    rows += dec_exp.clustering_ablations(copy.deepcopy(ae), centers0, x, y, S.update_interval, args.iterations,
                                         S.batch_size, S.alpha, S.seed)
    print(report.markdown_table(rows))
    command = (f"python week01_dec/full_mode_ablations.py --seed {args.seed} --iterations {args.iterations} "
               f"--dataset {args.dataset} --mode {args.mode}")
    rec = report.record(RECORD.format(seed=args.seed), S, rows=rows, wall_seconds=time.perf_counter() - t0,
                        command=command, notes=f"clustering-phase ablations, tol=0, {args.iterations} iterations each, "
                                               "from the notebook's pretrained autoencoder and k-means centres")
    if args.save:
        stored = report.stored("week01_dec") or {"records": []}
        records = [r for r in stored["records"] if r["name"] != rec["name"]] + [rec]
        print("saved to", report.save(records, "week01_dec"))
    return rec


if __name__ == "__main__":
    main()
