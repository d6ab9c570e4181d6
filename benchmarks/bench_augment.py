"""Speed of ``sslstudy.augment`` (batched) vs torchvision.transforms.v2 applied one image at a time.

The SimCLR CIFAR-10 recipe, two views per image: RandomResizedCrop(32, scale 0.08–1), horizontal flip,
ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8, RandomGrayscale(0.2). Ours: ``TwoViews(augment.simclr(32))`` on
float batches of 256 (the uint8 → float conversion included); torchvision: the same v2 pipeline called per
image, on uint8 and on float tensors. Throughput counts source images per second (each gives two views); the
speedup is against the faster torchvision variant.

    SSL_DATA_DIR=<folder with cifar10.npz> python benchmarks/bench_augment.py [--threads 2] [--images 2048]

The images come from ``sslstudy.data.load`` (``SSL_DATA_DIR`` or the course's data cache); without CIFAR-10 it
falls back to scikit-learn's digits resized to 32×32×3, and says so.

Prints ``augment speedup vs torchvision per-sample: N.Nx``; :func:`main` returns the numbers as a dict.
"""
from __future__ import annotations

import argparse
import time

import torch


def _load_images(n: int) -> tuple[torch.Tensor, str]:
    """Up to ``n`` uint8 CIFAR-10 training images found by the course's data lookup (``SSL_DATA_DIR`` or the data
    cache), or scikit-learn's digits resized to 32×32×3 when CIFAR-10 is not found (``sslstudy.data.load``'s
    fallback, which prints why)."""
    import warnings

    from sslstudy import data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                                 # the fallback prints its own banner
        d = data.load("cifar10", fallback=True, size=32, channels=3)
    if len(d.x) < n:
        print(f"note: only {len(d.x)} {d.name} images were found; the benchmark uses them all instead of {n}.")
    return d.x[:n].contiguous(), d.name


def _tv_pipeline():
    import torchvision.transforms.v2 as T

    return T.Compose([T.RandomResizedCrop(32, scale=(0.08, 1.0), antialias=True), T.RandomHorizontalFlip(),
                      T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), T.RandomGrayscale(0.2)])


def _time_ours(x_u8: torch.Tensor, batch_size: int, repeats: int) -> float:
    from sslstudy import augment

    views = augment.TwoViews(augment.simclr(32, strength=0.5, blur=False))
    views(x_u8[:batch_size].float().div_(255))                          # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, len(x_u8), batch_size):
            views(x_u8[i:i + batch_size].float().div_(255))
        best = min(best, time.perf_counter() - t0)
    return best


def _time_torchvision(x: torch.Tensor, repeats: int) -> float:
    t = _tv_pipeline()
    for i in range(16):                                                  # warm-up
        t(x[i])
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for img in x:
            t(img), t(img)
        best = min(best, time.perf_counter() - t0)
    return best


def main(n_images: int = 2048, batch_size: int = 256, threads: int | None = 2, repeats: int = 3,
         tv_repeats: int = 1, verbose: bool = True) -> dict:
    """Run the benchmark; returns images/s of each pipeline and the speedup (ours / faster torchvision)."""
    if threads is not None:
        torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    x_u8, dataset = _load_images(n_images)
    n_images = len(x_u8)
    x_f = x_u8.float().div(255)
    t_ours = _time_ours(x_u8, batch_size, repeats)
    t_tv_u8 = _time_torchvision(x_u8, tv_repeats)
    t_tv_f = _time_torchvision(x_f, tv_repeats)
    res = {
        "dataset": dataset, "n_images": n_images, "batch_size": batch_size, "threads": torch.get_num_threads(),
        "ours_images_per_s": n_images / t_ours,
        "torchvision_uint8_images_per_s": n_images / t_tv_u8,
        "torchvision_float_images_per_s": n_images / t_tv_f,
    }
    res["speedup"] = res["ours_images_per_s"] / max(res["torchvision_uint8_images_per_s"],
                                                   res["torchvision_float_images_per_s"])
    if verbose:
        print(f"SimCLR CIFAR recipe, two views, {n_images} {dataset} images, {res['threads']} threads")
        print(f"sslstudy.augment batched (batch {batch_size}): {res['ours_images_per_s']:,.0f} images/s")
        print(f"torchvision v2 per-sample, uint8: {res['torchvision_uint8_images_per_s']:,.0f} images/s")
        print(f"torchvision v2 per-sample, float: {res['torchvision_float_images_per_s']:,.0f} images/s")
        print(f"augment speedup vs torchvision per-sample: {res['speedup']:.1f}x")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    main(n_images=args.images, batch_size=args.batch_size, threads=args.threads, repeats=args.repeats)
