"""Optimisers and lr schedules that several papers share: LARS, warm-up + cosine, an optimiser from a name.

- :class:`LARS`: google-research/simclr @ 383d414 ``lars_optimizer.py`` ``LARSOptimizer``
  (https://github.com/google-research/simclr/blob/383d414/lars_optimizer.py); :func:`lars_param_groups`: the
  exclusions the official ``get_optimizer`` passes to it.
- :func:`scaled_lr`, :func:`simclr_schedule`: simclr @ 383d414 ``model_util.py`` ``learning_rate_schedule``
  (https://github.com/google-research/simclr/blob/383d414/model_util.py).
- :func:`warmup_cosine`: also facebookresearch/swav @ 04b8f43 ``main_swav.py`` ``lr_schedule``, per iteration
  (https://github.com/facebookresearch/swav/blob/04b8f43/main_swav.py); facebookresearch/simsiam @ 39ac33e
  ``main_simsiam.py`` ``adjust_learning_rate`` with ``--fix-pred-lr``, per epoch
  (https://github.com/facebookresearch/simsiam/blob/39ac33e/main_simsiam.py); the MoCo CIFAR demo,
  facebookresearch/moco branch ``colab-notebook`` @ f736491 ``colab/moco_cifar10_demo.ipynb``
  ``adjust_learning_rate`` with ``--cos``, per epoch
  (https://github.com/facebookresearch/moco/blob/f736491/colab/moco_cifar10_demo.ipynb).

:class:`LARS`, :func:`lars_param_groups` and :func:`scaled_lr` moved here unchanged from
``sslstudy.methods.simclr``. The schedules of all these repositories are one formula with different knobs,
:func:`warmup_cosine` (P = peak lr, S = ``start_lr``, F = ``final_lr``, W warm-up steps, T total steps):

    lr(t) = S + (P − S) · t / W                              for t < W  (linear warm-up)
    lr(t) = F + (P − F) · ½ (1 + cos(π · min(1, (t − W) / (T − W))))     for t ≥ W  (cosine to F)

- SimCLR ``learning_rate_schedule``: S = F = 0, stepped every iteration (:func:`simclr_schedule`).
- SwAV ``lr_schedule``: ``np.linspace(start_warmup, base_lr, W)`` then the cosine to ``final_lr``, per
  iteration. ``np.linspace`` includes its end point, so its warm-up divides by W − 1 and its last warm-up step
  already equals P: ``warmup_endpoint=True`` (``np.linspace``'s own argument name) selects that form.
- MoCo CIFAR demo: ``lr · ½ (1 + cos(π · epoch / epochs))``: W = 0, T = epochs, stepped once per epoch.
- SimSiam ``adjust_learning_rate``: the same cosine per epoch, the predictor's group at a constant lr
  (``fixed_lr_groups``).
"""

import math
from typing import Iterable

import torch
import torch.nn as nn


def _excluded(param: torch.Tensor) -> bool:
    return param.ndim <= 1  # every bias and BN scale/shift: official regexes 'bias', 'batch_normalization'


def lars_param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two parameter groups for :class:`LARS`: weights (wd + trust ratio) and BN/bias (neither).

    The official ``get_optimizer`` passes ``exclude_from_weight_decay=['batch_normalization', 'bias', …]`` and
    leaves ``exclude_from_layer_adaptation`` None, which the optimiser sets to the same list. Here a parameter
    with ≤ 1 dimension (every bias and every BN scale/shift) is excluded.
    """
    decay, no_decay = [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        (no_decay if _excluded(p) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay, "lars": True},
            {"params": no_decay, "weight_decay": 0.0, "lars": False}]


class LARS(torch.optim.Optimizer):
    """LARS as ``lars_optimizer.py`` (``classic_momentum=True``, the default), written from scratch.

    For each parameter tensor w with gradient g, per step:

        g ← g + wd · w                                  (only where weight decay applies)
        trust = η · ‖w‖ / ‖g‖  (1 if ‖w‖ = 0 or ‖g‖ = 0; only where layer adaptation applies, else 1)
        v ← m · v + lr · trust · g                      (the lr sits inside the momentum buffer: "classic")
        w ← w − v                                       (Nesterov: w ← w − (m · v + lr · trust · g))

    Groups carry ``weight_decay`` and ``lars`` (adaptation on/off); :func:`lars_param_groups` builds them.
    """

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                 eta: float = 0.001, nesterov: bool = False):
        if not (isinstance(lr, (int, float)) and lr >= 0):
            raise ValueError(f"lr={lr!r} is not allowed: the learning rate must be a number >= 0.")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum={momentum!r} is not allowed: use a value in [0, 1).")
        if weight_decay < 0 or eta <= 0:
            raise ValueError(f"weight_decay={weight_decay!r} and eta={eta!r}: weight decay must be >= 0 and "
                             f"eta > 0.")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta,
                                      nesterov=nesterov, lars=True))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, m, wd, eta = group["lr"], group["momentum"], group["weight_decay"], group["eta"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd:
                    g = g.add(p, alpha=wd)                       # g + wd · w
                trust = 1.0
                if group["lars"]:
                    w_norm, g_norm = p.norm(), g.norm()
                    trust = torch.where((w_norm > 0) & (g_norm > 0), eta * w_norm / g_norm,
                                        torch.ones_like(w_norm))
                scaled_lr = lr * trust
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                v = state["momentum_buffer"]
                v.mul_(m).add_(g * scaled_lr)                    # v ← m·v + lr·trust·g
                update = v * m + g * scaled_lr if group["nesterov"] else v
                p.sub_(update)
        return loss


def scaled_lr(base_lr: float, batch_size: int, scaling: str = "linear") -> float:
    """``learning_rate_schedule``'s batch scaling: linear lr·B/256 or sqrt lr·√B (better at small batches)."""
    if scaling == "linear":
        return base_lr * batch_size / 256.0
    if scaling == "sqrt":
        return base_lr * math.sqrt(batch_size)
    raise ValueError(f"Learning-rate scaling {scaling!r} is not allowed: use 'linear' or 'sqrt'.")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class WarmupCosine(torch.optim.lr_scheduler.LRScheduler):
    """Linear warm-up then cosine decay, per parameter group; build it with :func:`warmup_cosine`.

    A ``torch.optim.lr_scheduler`` scheduler with ``LambdaLR``'s step semantics: creating it sets every lr to
    its value at t = 0; each ``step()`` (after ``optimizer.step()``) advances t by one. ``state_dict`` /
    ``load_state_dict`` save and restore t and the knobs, so a checkpointed run resumes on the same curve.
    Past ``total_steps`` the lr stays at ``final_lr``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, *, total_steps: int, warmup_steps: int = 0,
                 peak_lr: float | None = None, start_lr: float = 0.0, final_lr: float = 0.0,
                 fixed_lr_groups: Iterable[int] = (), warmup_endpoint: bool = False):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"warmup_cosine takes a torch.optim.Optimizer; got a {type(optimizer).__name__}.")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"total_steps={total_steps!r} is not allowed: it must be a positive integer.")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) \
                or not 0 <= warmup_steps < total_steps:
            raise ValueError(f"warmup_steps={warmup_steps!r} is not allowed: it must be an integer in "
                             f"[0, total_steps) = [0, {total_steps}).")
        for name, value in (("peak_lr", peak_lr), ("start_lr", start_lr), ("final_lr", final_lr)):
            if (value is not None or name != "peak_lr") and not (_is_number(value) and value >= 0):
                raise ValueError(f"{name}={value!r} is not allowed: a learning rate must be a number >= 0.")
        n_groups = len(optimizer.param_groups)
        fixed = list(fixed_lr_groups)
        if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n_groups for i in fixed):
            raise ValueError(f"fixed_lr_groups={fixed!r} is not allowed: give indices of param groups in "
                             f"[0, {n_groups}).")
        self.total_steps, self.warmup_steps, self.peak_lr = total_steps, warmup_steps, peak_lr
        self.start_lr, self.final_lr = float(start_lr), float(final_lr)
        self.warmup_endpoint = bool(warmup_endpoint)
        self.fixed_lr_groups = sorted(set(fixed))
        for i, group in enumerate(optimizer.param_groups):
            if peak_lr is not None and i not in self.fixed_lr_groups:
                group["lr"] = peak_lr
            group["initial_lr"] = group["lr"]                    # the peak of this group (or its fixed lr)
        super().__init__(optimizer)

    def lr_at(self, step: int, peak: float) -> float:
        """The scheduled lr at step ``step`` for a group whose peak lr is ``peak`` (the formula above)."""
        w, t = self.warmup_steps, step
        if t < w:
            span = max(w - 1, 1) if self.warmup_endpoint else w  # np.linspace(S, P, W) reaches P at t = W − 1
            return self.start_lr + (peak - self.start_lr) * (t / span)
        progress = min(1.0, (t - w) / (self.total_steps - w))
        return self.final_lr + (peak - self.final_lr) * (0.5 * (1 + math.cos(math.pi * progress)))

    def get_lr(self) -> list[float]:
        return [base if i in self.fixed_lr_groups else self.lr_at(self.last_epoch, base)
                for i, base in enumerate(self.base_lrs)]

    _get_closed_form_lr = get_lr


def warmup_cosine(optimizer: torch.optim.Optimizer, *, total_steps: int, warmup_steps: int = 0,
                  peak_lr: float | None = None, start_lr: float = 0.0, final_lr: float = 0.0,
                  fixed_lr_groups: Iterable[int] = (), warmup_endpoint: bool = False) -> WarmupCosine:
    """The warm-up + cosine schedule of SimCLR, SwAV, SimSiam and the MoCo CIFAR demo (module docstring).

    Step it once per ``optimizer.step()`` (per iteration) or once per epoch; ``total_steps`` and
    ``warmup_steps`` count those steps. ``peak_lr``: P for every scheduled group (each group's lr is set to
    it); ``None`` keeps each group's current lr as its own P. ``start_lr`` S: the lr at t = 0; ``final_lr`` F:
    the lr at t ≥ ``total_steps``. ``fixed_lr_groups``: indices of param groups whose lr stays at the value it
    has now (SimSiam's ``--fix-pred-lr``: the predictor's group). ``warmup_endpoint=True``: the warm-up is
    ``np.linspace(S, P, W)`` as in SwAV (P already at t = W − 1); the default reaches P at t = W as in SimCLR.
    The defaults (S = F = 0) reproduce SimCLR's ``learning_rate_schedule`` exactly.
    """
    return WarmupCosine(optimizer, total_steps=total_steps, warmup_steps=warmup_steps, peak_lr=peak_lr,
                        start_lr=start_lr, final_lr=final_lr, fixed_lr_groups=fixed_lr_groups,
                        warmup_endpoint=warmup_endpoint)


def simclr_schedule(optimizer: torch.optim.Optimizer, base_lr: float, batch_size: int, num_examples: int,
                    num_epochs: int, warmup_epochs: float = 10, scaling: str = "linear") -> WarmupCosine:
    """SimCLR's ``learning_rate_schedule`` through :func:`warmup_cosine`, stepped every optimiser step.

    P = base_lr·B/256 (linear) or base_lr·√B (sqrt); W = round(warmup_epochs·num_examples // B); T =
    num_examples·num_epochs // B + 1 (``get_train_steps``). Sets each group's lr to P.
    """
    peak = scaled_lr(base_lr, batch_size, scaling)
    warmup = int(round(warmup_epochs * num_examples // batch_size))
    total = num_examples * num_epochs // batch_size + 1
    if warmup >= total:
        raise ValueError(f"warmup_epochs={warmup_epochs} gives {warmup} warm-up steps, not fewer than the "
                         f"{total} training steps; use fewer warm-up epochs.")
    return warmup_cosine(optimizer, total_steps=total, warmup_steps=warmup, peak_lr=peak)


OPTIMIZERS = ("sgd", "adam", "adamw", "lars")


def make_optimizer(params, name: str, lr: float, *, momentum: float = 0.9,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """An optimiser from its name: ``"sgd"`` (with ``momentum``), ``"adam"``, ``"adamw"`` or ``"lars"``.

    ``params``: an iterable of parameters or of param-group dicts, or an ``nn.Module``. For ``"lars"`` a
    module is split by :func:`lars_param_groups` (no weight decay and no trust ratio on biases and BN, as in
    the official SimCLR); for the others a module means ``module.parameters()``. Adam and AdamW keep their
    default betas (``momentum`` does not apply to them); ``weight_decay`` is L2 for SGD, Adam and LARS and
    decoupled for AdamW. The name is case-insensitive.
    """
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(f"Optimiser name={name!r} is not allowed: use one of "
                         f"{', '.join(map(repr, OPTIMIZERS))}.")
    name = name.lower()
    if isinstance(params, nn.Module):
        params = lars_param_groups(params, weight_decay) if name == "lars" else params.parameters()
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return LARS(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
