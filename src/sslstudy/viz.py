"""Figures in one consistent style: image grids, view pairs, curves, 2-D embeddings, confusion and similarity
matrices. Every function draws one titled figure, saves it where ``save="path.png"`` is given, and calls
``plt.show()``; it returns None, so a plot on a cell's last line is not displayed twice.

UMAP (umap-learn) costs about 20 s of numba compilation at its first call in a kernel on 2 CPU cores; the
embedding plot therefore subsamples (``max_points``) and falls back to PCA if umap-learn is missing.
"""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

PALETTE = plt.get_cmap("tab10")


def _finish(fig, save) -> None:
    fig.tight_layout()
    if save:
        fig.savefig(save, bbox_inches="tight")
    plt.show()


def set_style() -> None:
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 150, "figure.figsize": (6.4, 4.0), "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold", "font.size": 10,
    })


def _to_numpy_images(x) -> np.ndarray:
    """(N, C, H, W) uint8 or float in [0, 1] → (N, H, W, C) float in [0, 1]."""
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    t = t.detach().cpu()
    t = t.float() / 255 if t.dtype == torch.uint8 else t.float()
    if t.ndim == 3:
        t = t.unsqueeze(1)
    return t.clamp(0, 1).permute(0, 2, 3, 1).numpy()


def show_images(x, nrow: int = 10, title: str = "", labels=None, class_names=None, scale: float = 1.0, save=None):
    """A grid of images (N, C, H, W); optional per-image labels (indices into ``class_names``)."""
    imgs = _to_numpy_images(x)
    n = len(imgs)
    ncol = min(nrow, n)
    nrows = -(-n // ncol)
    fig, axes = plt.subplots(nrows, ncol, figsize=(ncol * 0.9 * scale, nrows * (1.05 if labels is not None else 0.9) * scale),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            img = imgs[i]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None, vmin=0, vmax=1)
            if labels is not None:
                lab = int(labels[i])
                ax.set_title(class_names[lab] if class_names else str(lab), fontsize=7)
    fig.suptitle(title, fontweight="bold")
    _finish(fig, save)


def show_view_pairs(x1, x2, n: int = 8, title: str = "Two augmented views of the same images", save=None):
    """Top row: view 1; bottom row: view 2 of the same images."""
    both = torch.cat([torch.as_tensor(x1[:n]).cpu(), torch.as_tensor(x2[:n]).cpu()])
    show_images(both, nrow=n, title=title, save=save)


def plot_curves(curves: dict, title: str = "", xlabel: str = "epoch", ylabel: str = "", logy: bool = False, save=None):
    """``curves`` maps a label to a list of values (or to an (x, y) pair)."""
    fig, ax = plt.subplots()
    for i, (label, values) in enumerate(curves.items()):
        if isinstance(values, tuple) and len(values) == 2:
            xs, ys = values
        else:
            ys = list(values)
            xs = np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, label=label, color=PALETTE(i % 10), marker="o" if len(ys) <= 30 else None, ms=3)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(curves) > 1:
        ax.legend()
    _finish(fig, save)


def embed_2d(features, method: str = "umap", seed: int = 0, metric: str = "cosine") -> np.ndarray:
    """2-D coordinates of ``features`` by UMAP (``metric``: cosine for SSL features, euclidean for DEC's space) or PCA."""
    x = torch.as_tensor(features).float().cpu().numpy()
    if method == "umap":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import umap

                return umap.UMAP(n_neighbors=15, min_dist=0.1, metric=metric, random_state=seed, n_jobs=1).fit_transform(x)
        except ImportError:
            warnings.warn("umap-learn is not installed; using PCA for the 2-D embedding (pip install umap-learn).", stacklevel=2)
            method = "pca"
    if method != "pca":
        raise ValueError(f"Unknown embedding method {method!r}: use 'umap' or 'pca'.")
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def plot_embedding(features, labels, title: str = "", method: str = "umap", max_points: int = 2000, seed: int = 0,
                   class_names=None, ax=None, save=None):
    """Scatter of a 2-D embedding (UMAP by default) coloured by class; subsampled to ``max_points``."""
    feats = torch.as_tensor(features).float().cpu()
    labels = np.asarray(torch.as_tensor(labels).cpu())
    if len(feats) > max_points:
        idx = np.random.default_rng(seed).choice(len(feats), max_points, replace=False)
        feats, labels = feats[idx], labels[idx]
    xy = embed_2d(feats, method, seed)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5.2, 4.6))
    for c in np.unique(labels):
        m = labels == c
        ax.scatter(xy[m, 0], xy[m, 1], s=4, color=PALETTE(int(c) % 10), label=class_names[c] if class_names else str(c))
    ax.set(title=title or f"{method.upper()} of the features", xticks=[], yticks=[])
    ax.legend(markerscale=3, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
    if own:
        _finish(fig, save)


def plot_matrix(m, title: str = "", xlabel: str = "", ylabel: str = "", cmap: str = "viridis", annotate: bool = False,
                xticklabels=None, yticklabels=None, vmin=None, vmax=None, save=None):
    """A heat map of a matrix (similarities, soft assignments, a confusion matrix)."""
    m = np.asarray(torch.as_tensor(m).detach().cpu())
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.grid(False)
    if annotate:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                r, g, b, _ = im.cmap(im.norm(m[i, j]))  # text colour from the cell's own luminance
                ax.text(j, i, f"{m[i, j]:.0f}" if np.issubdtype(m.dtype, np.integer) else f"{m[i, j]:.2f}",
                        ha="center", va="center", fontsize=6, color="k" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "w")
    if xticklabels is not None:
        ax.set_xticks(range(len(xticklabels)), xticklabels, rotation=90, fontsize=7)
    if yticklabels is not None:
        ax.set_yticks(range(len(yticklabels)), yticklabels, fontsize=7)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    _finish(fig, save)


def plot_confusion(cm, class_names=None, title: str = "Confusion matrix", save=None):
    """Confusion matrix ``cm[true, pred]`` with counts in the cells."""
    names = class_names or [str(i) for i in range(len(cm))]
    plot_matrix(cm, title=title, xlabel="predicted", ylabel="true", cmap="Blues", annotate=True,
                       xticklabels=names, yticklabels=names, save=save)


def pipeline_diagram(rows, arrows=(), title: str = "", loops=(), colors=None, figsize=None, save=None):
    """A method's pipeline drawn with boxes and arrows (a course figure, drawn in code, never copied).

    ``rows``: a list of rows, each a list of box labels (``"encoder f\\n(B, 512)"``: a second line is the detail);
    consecutive boxes of a row are joined by arrows. ``arrows``: extra ``((row, col), (row, col), label)`` links,
    e.g. from the two views' projections into one loss box. ``loops``: ``((row, col), (row, col), label)`` drawn
    as a curved dashed arrow above the row (an outer loop: DEC's target refresh, DeepCluster's re-clustering).
    ``colors``: optional ``{(row, col): colour}``. Example (SimCLR)::

        viz.pipeline_diagram([["x", "t ~ T", "x̃_i", "f", "h_i", "g", "z_i"],
                              ["", "t' ~ T", "x̃_j", "f", "h_j", "g", "z_j"]],
                             arrows=[((0, 0), (1, 1), "")], title="SimCLR")
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if not rows or not all(isinstance(r, (list, tuple)) for r in rows):
        raise ValueError("pipeline_diagram takes rows: a list of lists of box labels, e.g. [['x', 'f', 'z']].")
    n_cols = max(len(r) for r in rows)
    width, height, gap_x, gap_y = 1.6, 0.8, 0.7, 0.6
    fig, ax = plt.subplots(figsize=figsize or (max(6.0, n_cols * 1.9), 1.2 + len(rows) * 1.3))
    centre = {}
    for i, row in enumerate(rows):
        for j, label in enumerate(row):
            if not label:
                continue
            x, y = j * (width + gap_x), -i * (height + gap_y)
            centre[(i, j)] = (x + width / 2, y + height / 2)
            colour = (colors or {}).get((i, j), PALETTE(j % 10))
            ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.05", fc=colour, ec="k", alpha=0.25))
            head, _, detail = str(label).partition("\n")
            ax.text(x + width / 2, y + height / 2 + (0.12 if detail else 0), head, ha="center", va="center",
                    fontsize=10, weight="bold")
            if detail:
                ax.text(x + width / 2, y + height / 2 - 0.18, detail, ha="center", va="center", fontsize=8)

    def link(a, b, label="", style="-|>", curve=0.0, dashed=False):
        if a not in centre or b not in centre:
            raise ValueError(f"pipeline_diagram: arrow {a} -> {b} names a box that does not exist.")
        (x0, y0), (x1, y1) = centre[a], centre[b]
        dx = width / 2 if x1 > x0 else (-width / 2 if x1 < x0 else 0)
        dy = 0 if dx else (-height / 2 if y1 < y0 else height / 2)
        start, end = (x0 + dx, y0 + dy), (x1 - dx, y1 - dy)
        if curve:
            start, end = (x0, y0 + height / 2), (x1, y1 + height / 2)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, lw=1.3,
                                     connectionstyle=f"arc3,rad={curve}", ls="--" if dashed else "-", color="k"))
        if label:
            vertical = not curve and abs(start[0] - end[0]) < 1e-9
            ax.text((start[0] + end[0]) / 2 + (0.08 if vertical else 0), (start[1] + end[1]) / 2 + (0.55 if curve else 0.12 * (not vertical)),
                    label, ha="left" if vertical else "center", va="center" if vertical else "bottom", fontsize=8, style="italic")

    for i, row in enumerate(rows):
        cols = [j for j, label in enumerate(row) if label]
        for a, b in zip(cols, cols[1:]):
            link((i, a), (i, b))
    for a, b, label in arrows:
        link(tuple(a), tuple(b), label)
    for a, b, label in loops:
        link(tuple(b), tuple(a), label, curve=0.35, dashed=True)
    ax.set_xlim(-0.3, n_cols * (width + gap_x))
    ax.set_ylim(-(len(rows) - 1) * (height + gap_y) - 0.4, height + 1.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    _finish(fig, save)


def results_table(rows, columns) -> str:
    """Markdown table from a list of dicts; floats shown with 3 decimals. Display with IPython.display.Markdown."""
    out = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(f"{r.get(c):.3f}" if isinstance(r.get(c), float) else str(r.get(c, "–")) for c in columns) + " |")
    return "\n".join(out)


set_style()
