"""One evaluation protocol, everywhere in the course.

- **kNN monitor**: weighted vote (InstDisc / the MoCo CIFAR demo's ``knn_predict``), k = 200, t = 0.1, on
  L2-normalised features: each of the k nearest training samples votes for its class with weight
  ``exp(cos / t)``. Report the last epoch (not the best, which is optimistic).
- **Linear probe**: frozen features, standardised with the training set's mean and std, multinomial logistic
  regression trained full-batch with L-BFGS (100 iterations, L2 penalty 1e-4 · ||W||²/2). One fixed recipe,
  no tuning per method, so numbers are comparable across weeks.
- **Clustering**: ACC with Hungarian matching (``scipy.optimize.linear_sum_assignment``), NMI, ARI, on the data
  that was clustered.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

KNN_K = 200
KNN_T = 0.1


def _as_tensor(a, dtype=None) -> torch.Tensor:
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    return t.to(dtype) if dtype is not None else t


@torch.no_grad()
def extract_features(encoder: torch.nn.Module, x, batch_size: int = 512, device=None, transform=None) -> torch.Tensor:
    """Features of ``encoder`` for every image, in eval mode (its mode is restored afterwards).

    ``x`` is an :class:`~sslstudy.data.ImageData` (uint8, scaled to [0, 1] here) or a float tensor.
    ``transform`` (e.g. a normalisation) is applied to each float batch. Returns a float32 CPU tensor (N, D).
    """
    from .data import ImageData, to_float

    if device is None:
        try:
            device = next(encoder.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
    was_training = encoder.training
    encoder.eval()
    out = []
    images = x.x if isinstance(x, ImageData) else x
    try:
        for i in range(0, len(images), batch_size):
            b = images[i:i + batch_size].to(device)
            b = to_float(b).float()                      # uint8 → [0, 1]; float32 for the encoder
            if transform is not None:
                b = transform(b)
            out.append(encoder(b).float().cpu())
    finally:
        encoder.train(was_training)
    return torch.cat(out)


def gather_rows(rows_fn, n: int) -> torch.Tensor:
    """Rows ``0..n-1`` of a (N, D) float result computed in shares by the processes of a ``torch.distributed``
    run and gathered: each process calls ``rows_fn(lo, hi)`` (a CPU float tensor of rows ``lo:hi``) on its
    contiguous share of ``ceil(n / world)`` rows, and every process returns all ``n`` rows in order. One
    process: ``rows_fn(0, n)``."""
    from . import distributed

    if not distributed.is_dist():
        return rows_fn(0, n)
    world, r = distributed.world_size(), distributed.rank()
    per = -(-n // world)
    lo, hi = min(r * per, n), min((r + 1) * per, n)
    mine = rows_fn(lo, hi) if hi > lo else torch.zeros(0, 0)                 # (≤ per, D)
    dim = torch.tensor([mine.shape[1] if len(mine) else -1])
    torch.distributed.all_reduce(dim, op=torch.distributed.ReduceOp.MAX)
    padded = torch.zeros(per, int(dim), dtype=torch.float32)
    padded[:len(mine)] = mine
    return distributed.all_gather_no_grad(padded)[:n]                         # (n, D), every process


def extract_features_sharded(encoder: torch.nn.Module, x, batch_size: int = 512, device=None,
                             transform=None) -> torch.Tensor:
    """:func:`extract_features` split over the processes of a ``torch.distributed`` run (:func:`gather_rows`):
    every process returns the features of all rows, having computed only its share (a kNN monitor over every
    image, the work divided). One process: exactly :func:`extract_features`."""
    from .data import ImageData

    images = x.x if isinstance(x, ImageData) else x
    return gather_rows(lambda lo, hi: extract_features(encoder, images[lo:hi], batch_size, device, transform),
                       len(images))


@torch.no_grad()
def knn_predict(feat: torch.Tensor, bank: torch.Tensor, bank_labels: torch.Tensor, num_classes: int,
                k: int = KNN_K, t: float = KNN_T) -> torch.Tensor:
    """Weighted kNN scores ``(B, C)`` for L2-normalised ``feat`` (B, D) against ``bank`` (N, D).

    score_c(x) = Σ_{i ∈ kNN(x), y_i = c} exp(cos(x, x_i) / t)
    """
    k = min(k, len(bank))
    sim = feat @ bank.T                                   # (B, N) cosine similarities
    sim_k, idx_k = sim.topk(k, dim=1)                     # (B, k)
    labels_k = bank_labels[idx_k]                         # (B, k)
    weights = (sim_k / t).exp()                           # (B, k)
    scores = torch.zeros(len(feat), num_classes, device=feat.device)
    scores.scatter_add_(1, labels_k, weights)             # (B, C)
    return scores


@torch.no_grad()
def knn_accuracy(train_feat, train_y, test_feat, test_y, k: int = KNN_K, t: float = KNN_T,
                 num_classes: int | None = None, chunk: int = 1024) -> float:
    """Top-1 accuracy of the weighted kNN classifier (features are L2-normalised here)."""
    train_feat = F.normalize(_as_tensor(train_feat).float(), dim=1)
    test_feat = F.normalize(_as_tensor(test_feat).float(), dim=1)
    train_y, test_y = _as_tensor(train_y).long(), _as_tensor(test_y).long()
    if len(train_feat) != len(train_y) or len(test_feat) != len(test_y):
        raise ValueError(f"knn_accuracy needs one label per feature row; got {len(train_feat)} features / {len(train_y)} "
                         f"labels (train), {len(test_feat)} / {len(test_y)} (test).")
    num_classes = num_classes or int(max(train_y.max(), test_y.max())) + 1
    correct = 0
    for i in range(0, len(test_feat), chunk):
        scores = knn_predict(test_feat[i:i + chunk], train_feat, train_y, num_classes, k, t)
        correct += (scores.argmax(1) == test_y[i:i + chunk]).sum().item()
    return correct / len(test_feat)


def linear_probe(train_feat, train_y, test_feat, test_y, max_iter: int = 100, weight_decay: float = 1e-4,
                 num_classes: int | None = None, return_model: bool = False):
    """Test accuracy of the course's fixed linear probe on frozen features (see the module docstring)."""
    xtr, xte = _as_tensor(train_feat).double(), _as_tensor(test_feat).double()
    ytr, yte = _as_tensor(train_y).long(), _as_tensor(test_y).long()
    num_classes = num_classes or int(max(ytr.max(), yte.max())) + 1
    mean, std = xtr.mean(0, keepdim=True), xtr.std(0, keepdim=True).clamp_min(1e-6)
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    g = torch.Generator().manual_seed(0)
    layer = torch.nn.Linear(xtr.shape[1], num_classes).double()
    with torch.no_grad():
        layer.weight.normal_(0, 0.01, generator=g)
        layer.bias.zero_()
    opt = torch.optim.LBFGS(layer.parameters(), lr=1, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(layer(xtr), ytr) + 0.5 * weight_decay * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        acc = (layer(xte).argmax(1) == yte).double().mean().item()
    return (acc, layer) if return_model else acc


def cluster_acc(y_true, y_pred) -> tuple[float, dict]:
    """Unsupervised clustering accuracy: the best one-to-one map of clusters to classes (Hungarian).

    ACC = max_m (1/N) Σ_i 1{y_i = m(c_i)}. Returns (accuracy, mapping cluster → class).
    """
    from scipy.optimize import linear_sum_assignment

    y_true, y_pred = np.asarray(y_true).astype(np.int64).ravel(), np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"cluster_acc needs as many predictions as labels; got {y_pred.shape[0]} and {y_true.shape[0]}.")
    if y_true.size == 0:
        raise ValueError("cluster_acc needs at least one sample; got none.")
    d = int(max(y_pred.max(), y_true.max())) + 1
    counts = np.zeros((d, d), dtype=np.int64)            # counts[cluster, class]
    np.add.at(counts, (y_pred, y_true), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / y_true.size, dict(zip(rows.tolist(), cols.tolist()))


def clustering_scores(y_true, y_pred) -> dict:
    """ACC (Hungarian), NMI and ARI of a clustering, as a dict."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    acc, _ = cluster_acc(y_true, y_pred)
    return {"acc": float(acc), "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
            "ari": float(adjusted_rand_score(y_true, y_pred))}


def kmeans(features, k: int, n_init: int = 10, seed: int = 0, max_iter: int = 300):
    """scikit-learn k-means; returns (labels, centres) as numpy arrays."""
    from sklearn.cluster import KMeans

    x = _as_tensor(features).float().cpu().numpy()
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed, max_iter=max_iter).fit(x)
    return km.labels_, km.cluster_centers_


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[true, pred]``."""
    y_true, y_pred = np.asarray(y_true).astype(np.int64).ravel(), np.asarray(y_pred).astype(np.int64).ravel()
    n = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


class KNNMonitor:
    """A per-epoch callback for :func:`sslstudy.train.fit`: kNN accuracy of ``encoder`` on ``test``.

    The bank is ``train`` (labels used only for the vote, never for training). Returns ``{"knn": acc}``.
    Under ``torch.distributed`` every process extracts the features of its share of the images and they are
    gathered (:func:`extract_features_sharded`), so the accuracy is over all of them, the same in every process.
    """

    def __init__(self, encoder, train, test, transform=None, k: int = KNN_K, t: float = KNN_T, every: int = 1,
                 batch_size: int = 512):
        self.encoder, self.train, self.test, self.transform = encoder, train, test, transform
        self.k, self.t, self.every, self.batch_size = k, t, every, batch_size

    def __call__(self, epoch: int, **_) -> dict:
        if (epoch + 1) % self.every:
            return {}
        ftr = extract_features_sharded(self.encoder, self.train, self.batch_size, transform=self.transform)
        fte = extract_features_sharded(self.encoder, self.test, self.batch_size, transform=self.transform)
        return {"knn": knn_accuracy(ftr, self.train.y, fte, self.test.y, self.k, self.t, self.train.num_classes)}

