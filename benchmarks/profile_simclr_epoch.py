"""Where the time of one fast-mode SimCLR epoch goes (week 8's code-analysis notebook, part of ``make bench``).

The notebook's fast-mode run, one epoch of it: 4,000 CIFAR-10 images of 32×32, batch 256 (15 steps),
``SimCLR(SmallCNN(3))`` with a 128-d projection head, two views per image from
``augment.TwoViews(augment.simclr(32, strength=0.5, blur=False))``, NT-Xent with τ = 0.5, Adam (lr 2e-3,
weight decay 1e-6), the collapse diagnostics of its ``step`` (``positive_rank``, ``normalized_std``) and the kNN
monitor (``evaluate.KNNMonitor``: 4,000 train features, 1,000 test features, k = 200) at the end of the epoch.
The loop is written out here (not ``train.fit``) so that each phase has its own clock: ``time.perf_counter``
around each phase (CUDA synchronised before each reading). One step is run before the clock starts
(warm-up); "other" is what the phases do not cover (the Python loop).

Data: ``sslstudy.data.load_splits("cifar10")`` (``SSL_DATA_DIR`` or the course's data cache); when CIFAR-10 is
not found, scikit-learn's digits resized to 32×32×3 (batch 128, as the notebook's fallback), with a note.

    SSL_DATA_DIR=<folder with cifar10.npz> python benchmarks/profile_simclr_epoch.py [--threads 2] [--repeats 1]

:func:`main` prints one table (seconds and share of the epoch per phase; with ``--repeats`` > 1, the median
of the repeats) and returns it as a dict.

Measured on the course machine (2 CPU cores shared with other jobs, load average 4–9 during the runs; wall
shares, median of 3 runs each):

| phase                          | 2 threads | 1 thread |
| ---                            | ---       | ---      |
| augmentation (two views)       | 23 %      | 3 %      |
| forward (f and g on 2B)        | 22 %      | 34 %     |
| loss + diagnostics             | 4 %       | 0.4 %    |
| backward + Adam step           | 33 %      | 45 %     |
| kNN monitor                    | 11 %      | 17 %     |

Why ``sslstudy.augment`` was left as it is although the 2-thread share is above 15 %: the share is an artefact
of the busy machine, not of the augmentation's arithmetic. In one process, alternating the thread count step by
step, two views of 256 images took 70 ms (median) with 1 thread and 4.5 s with 2 threads, while the
forward + backward step took 2.1 s and 3.1 s: with more runnable threads than cores each of the augmentation's
hundreds of small multi-threaded ops (≈ 3,000 aten calls per pair of views) waits for its second thread to be
scheduled (≈ 7–9 ms per elementwise op, a scheduler time slice), whereas the CNN does few large ops. On an idle
2-core machine (CI runs one notebook at a time; a laptop, Colab) the augmentation should be ≈ 3–5 % of the epoch
(3 % measured with 1 thread, where no op waits for a second thread), so even an infinitely fast one would save ≤ 5 %, and the 2×
needed to go from ≈ 10× to 20× torchvision (``bench_augment.py``) ≤ 2.5 %; the epoch is bound by the CNN's
forward and backward and the kNN monitor. Where the machine is shared, fewer threads help more
(``SSL_THREADS`` ≤ the free cores).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

PHASES = ("loader (batch slicing)", "augmentation (two views)", "forward (f and g on 2B)", "loss (NT-Xent)",
          "diagnostics (rank, z std)", "backward + Adam step", "kNN monitor", "other")
AUGMENT = "augmentation (two views)"
STEP_PHASES = PHASES[1:6]                                               # timed once per training step


def _load(n_train: int):
    """(train, test, batch_size, note): CIFAR-10 through the course's lookup, else the digits fallback."""
    import warnings

    from sslstudy import data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                                 # the fallback prints its own banner
        train_set, test_set = data.load_splits("cifar10", fallback=True)
    note = None
    if train_set.name == "digits":
        note = (f"note: CIFAR-10 was not found (set SSL_DATA_DIR to the folder holding cifar10.npz); profiling "
                f"digits resized to 32x32x3 instead ({len(train_set)} images, batch 128).")
        return train_set, test_set, 128, note
    return data.balanced_subset(train_set, n_train, seed=0), test_set, 256, note


def profile_epoch(n_train: int = 4_000, device: str = "cpu", seed: int = 0) -> dict:
    """Run one timed epoch (after a one-step warm-up); returns ``{"seconds": {phase: s}, ...}``."""
    from sslstudy import augment, backbones, data, evaluate
    from sslstudy.methods.simclr import SimCLR, normalized_std, nt_xent_loss, positive_rank

    dev = torch.device(device)
    train_set, test_set, batch_size, note = _load(n_train)
    if note:
        print(note)

    def clock() -> tuple[float, float]:
        """(wall, process CPU) seconds; CUDA is synchronised first so that its kernels count where they run."""
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return time.perf_counter(), time.process_time()

    def norm(x):                                                        # (B, C, H, W) in [0, 1] → standardised
        return data.normalize(x, train_set.name)

    tau = 0.5
    torch.manual_seed(seed)
    model = SimCLR(backbones.SmallCNN(3), proj_dim=128).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-6)
    project = getattr(model, "project", model)                        # x -> (h, z), either API version
    views = augment.TwoViews(augment.simclr(32, strength=0.5, blur=False))
    loader = data.TensorLoader(train_set, batch_size, device=dev, seed=seed)
    monitor = evaluate.KNNMonitor(model.encoder, train_set, test_set, transform=norm, every=1)
    if train_set.shape[0] != 3:
        raise ValueError(f"expected 3-channel images, got shape {train_set.shape}")

    wall, cpu = dict.fromkeys(PHASES, 0.0), dict.fromkeys(PHASES, 0.0)

    def add(phase: str, t0: tuple[float, float], t1: tuple[float, float]) -> None:
        wall[phase] += t1[0] - t0[0]
        cpu[phase] += t1[1] - t0[1]

    def step(x: torch.Tensor, t0: tuple[float, float]) -> tuple[float, float]:
        """One training step as the notebook's ``step`` + ``fit``, each phase timed; returns the last clock."""
        x1, x2 = views(x)                                               # (B, C, H, W) each
        t1 = clock()
        n = len(x1)
        _, z = project(norm(torch.cat([x1, x2])))                       # (2B, proj_dim)
        t2 = clock()
        loss = nt_xent_loss(z[:n], z[n:], tau)
        t3 = clock()
        positive_rank(z[:n].detach(), z[n:].detach())
        normalized_std(z.detach())
        t4 = clock()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        t5 = clock()
        for phase, (a, b) in zip(STEP_PHASES, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))):
            add(phase, a, b)
        return t5

    step(train_set.x[:batch_size].to(dev).float().div_(255), clock())  # warm-up, not counted
    for d in (wall, cpu):
        d.update(dict.fromkeys(PHASES, 0.0))

    start = t = clock()
    steps = 0
    for batch in loader:
        t_batch = clock()
        add("loader (batch slicing)", t, t_batch)
        t = step(batch.x, t_batch)
        steps += 1
    knn = monitor(epoch=0)["knn"]
    end = clock()
    add("kNN monitor", t, end)
    total, total_cpu = end[0] - start[0], end[1] - start[1]
    wall["other"] = max(0.0, total - sum(wall.values()))
    cpu["other"] = max(0.0, total_cpu - sum(cpu.values()))
    return {"dataset": train_set.name, "n_train": len(train_set), "batch_size": batch_size, "steps": steps,
            "device": str(dev), "threads": torch.get_num_threads(), "seconds": wall, "total": total,
            "cpu_seconds": cpu, "total_cpu": total_cpu, "knn": knn}


def table(res: dict) -> str:
    """The phases as a plain-text table: wall seconds and share of the epoch, process CPU seconds and share."""
    lines = [f"{'phase':<28}{'seconds':>9}{'share':>8}{'cpu s':>9}{'cpu share':>11}"]
    for p in PHASES:
        lines.append(f"{p:<28}{res['seconds'][p]:>9.2f}{100 * res['share'][p]:>7.1f}%"
                     f"{res['cpu_seconds'][p]:>9.2f}{100 * res['cpu_share'][p]:>10.1f}%")
    lines.append(f"{'epoch':<28}{res['total']:>9.2f}{100.0:>7.1f}%{res['total_cpu']:>9.2f}{100.0:>10.1f}%")
    return "\n".join(lines)


def main(threads: int | None = 2, repeats: int = 1, device: str = "cpu", verbose: bool = True) -> dict:
    """Profile ``repeats`` epochs (each a fresh model, same data and seed); the median of each figure.

    Returns ``seconds``/``share`` (wall clock) and ``cpu_seconds``/``cpu_share`` (this process's CPU time, all
    threads) per phase, ``total``/``total_cpu``, ``augment_share``, the 1-minute load average before the run
    (``load_before``, ``busy`` when it exceeds the cores the run leaves free) and the run's description.
    """
    if threads is not None:
        torch.set_num_threads(int(threads))
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats={repeats!r} is not allowed: it must be a whole number of at least 1.")
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    runs = [profile_epoch(device=device) for _ in range(repeats)]
    for r in runs:
        r["share"] = {p: s / r["total"] for p, s in r["seconds"].items()}
        r["cpu_share"] = {p: s / r["total_cpu"] for p, s in r["cpu_seconds"].items()}
    res = {k: runs[0][k] for k in ("dataset", "n_train", "batch_size", "steps", "device", "threads")}
    res["repeats"] = repeats
    res["load_before"] = load_before
    res["busy"] = load_before > max(1, (os.cpu_count() or 1) - torch.get_num_threads())
    for key in ("seconds", "share", "cpu_seconds", "cpu_share"):
        res[key] = {p: statistics.median(r[key][p] for r in runs) for p in PHASES}
    for key in ("total", "total_cpu"):
        res[key] = statistics.median(r[key] for r in runs)
    res["augment_share"] = res["share"][AUGMENT]
    res["knn"] = runs[-1]["knn"]
    if verbose:
        print(f"one fast-mode SimCLR epoch: {res['dataset']} {res['n_train']} images, batch {res['batch_size']} "
              f"({res['steps']} steps), SmallCNN, {res['device']}, {res['threads']} threads"
              + (f", median of {repeats} epochs" if repeats > 1 else ""))
        print(table(res))
        print(f"augmentation share of the epoch: {100 * res['augment_share']:.1f}% of the wall time, "
              f"{100 * res['cpu_share'][AUGMENT]:.1f}% of the CPU time")
        if res["busy"]:
            print(f"note: the machine was busy before the run (load {res['load_before']:.1f} on {os.cpu_count()} "
                  f"cores): with more runnable threads than cores, every multi-threaded op waits for its threads to "
                  f"be scheduled, which slows the augmentation's many small ops most; these shares are not those "
                  f"of an idle machine" + (" (compare --threads 1)." if res["threads"] > 1 else "."))
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="epochs to profile; the table shows their median")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    main(threads=args.threads, repeats=args.repeats, device=args.device)
