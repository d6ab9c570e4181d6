"""`make bench`: speed figures measured side by side in one run, printed (never asserted).

1. batched augmentation vs torchvision.transforms.v2 per sample (SimCLR CIFAR recipe) — benchmarks/bench_augment.py;
2. where the time of one fast-mode SimCLR epoch goes (augmentation, forward, loss, backward + optimiser step,
   kNN monitor) — benchmarks/profile_simclr_epoch.py (skip with --no-profile);
3. the kNN monitor on 10k × 10k × 128 features;
4. the fast-mode wall time of each notebook (skip with --no-notebooks).

Data come from the course's lookup (``SSL_DATA_DIR`` or the data cache; digits when CIFAR-10 is not found).
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def bench_knn(n: int = 10_000, d: int = 128, repeats: int = 3) -> float:
    from sslstudy import evaluate

    g = torch.Generator().manual_seed(0)
    bank, q = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
    yb, yq = torch.randint(0, 10, (n,), generator=g), torch.randint(0, 10, (n,), generator=g)
    evaluate.knn_accuracy(bank[:500], yb[:500], q[:500], yq[:500])  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        evaluate.knn_accuracy(bank, yb, q, yq)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-notebooks", action="store_true", help="skip the per-notebook wall times")
    ap.add_argument("--no-profile", action="store_true", help="skip the profile of one SimCLR epoch")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    try:
        import bench_augment

        bench_augment.main()
    except ImportError as e:
        print(f"augment benchmark unavailable: {e}")
    if not args.no_profile:
        import profile_simclr_epoch

        print()
        profile_simclr_epoch.main(threads=2)
        print()
    secs = bench_knn()
    print(f"kNN monitor 10k x 10k x 128 (k=200, t=0.1): {secs:.2f} s")
    if not args.no_notebooks:
        from sslstudy import nbtools

        rows = nbtools.run_course()
        ok = [r for r in rows if r["status"] == "ok"]
        print(f"notebooks: {len(ok)}/{len(rows)} ok, total {sum(r['seconds'] for r in ok):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
