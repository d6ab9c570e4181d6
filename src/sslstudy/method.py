"""The method interface: one ``nn.Module`` per self-supervised method, trained by :func:`sslstudy.train.fit_method`.

A method owns everything the paper defines and nothing else:

- ``backbone``: the network whose features are evaluated (kNN monitor, linear probe); ``features(x)`` returns
  them (by default ``self.backbone(x)``; override when the evaluated features are e.g. a pooled layer).
- its heads (projector, predictor, prototypes, classifier) as submodules;
- its state between steps (MoCo's queue and key encoder, BYOL's target network, SwAV's prototypes, DEC's target
  distribution) as buffers or submodules, so that ``state_dict()`` holds all of it and a checkpoint resumes it.
  No state in plain Python attributes: it would be lost on resume.

``forward(views) -> dict`` computes one training step's loss from a batch of views (what ``fit_method``'s
``views`` callable returned, e.g. a pair ``(x1, x2)`` or a list of multi-crops; the batch itself without
``views``). The dict holds ``"loss"`` (a scalar tensor, the one that is back-propagated) and any diagnostics
as floats or 0-d tensors (detached), which the history logs per epoch.

Optional hooks, no-ops by default, called by the training loop in this order::

    on_fit_start(loader, trainer)     once, before a checkpoint is read (DEC: the initial target from the
                                      k-means centres); state it sets in buffers is then replaced on resume
    on_epoch_start(epoch, trainer)    before each epoch (DeepCluster: k-means on all features, a new classifier
                                      and its fresh optimiser in ``trainer.optimizers``)
      forward(views) -> backward      every step
      before_step(step)               gradients ready, optimiser not yet stepped (SwAV: prototypes' grads to None)
      after_step(step)                after the optimiser step (MoCo/BYOL: momentum update, enqueue the keys)

``step`` counts optimiser steps from 1 over the whole run (it continues after a resume); ``epoch`` is 0-based.
``trainer`` is the :class:`sslstudy.train.Trainer` of the run (``trainer.optimizers``, ``trainer.loader``,
``trainer.history``, ...). A hook may raise :class:`sslstudy.train.StopTraining` to end the run.

A minimal method::

    class SimCLR(Method):
        def __init__(self, backbone, projector, tau=0.5):
            super().__init__()
            self.backbone, self.projector, self.tau = backbone, projector, tau

        def forward(self, views):
            x1, x2 = views                                      # (B, C, H, W) each
            z1, z2 = self.projector(self.backbone(x1)), self.projector(self.backbone(x2))   # (B, D)
            loss = nt_xent_loss(z1, z2, self.tau)
            return {"loss": loss}

    fit_method(SimCLR(net, head), loader, num_epochs, optimizer, views=augment.TwoViews(augment.simclr(32)))
"""
from __future__ import annotations

import torch
from torch import nn


class Method(nn.Module):
    """Base class of a self-supervised method; see the module docstring for the interface.

    Subclasses set ``self.backbone`` (and their heads) in ``__init__`` and implement :meth:`forward`.
    """

    backbone: nn.Module
    #: False: ``forward`` gets the views (or ``batch.x``). True: it gets the whole :class:`sslstudy.data.Batch`
    #: with ``x`` replaced by the views, so it can use ``batch.idx`` (the samples' positions in the dataset:
    #: DeepCluster's pseudo-labels, DEC's target rows) and ``batch.y``.
    takes_batch: bool = False

    def forward(self, views) -> dict:
        """One step's ``{"loss": scalar tensor, **diagnostics}`` from a batch of views."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(views) -> dict with a 'loss' entry.")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The features that are evaluated (kNN monitor, linear probe): ``backbone(x)`` (callers that evaluate
        wrap it in ``torch.no_grad()``)."""
        return self.backbone(x)

    def on_fit_start(self, loader, trainer) -> None:
        """Once, before the checkpoint is read (pretraining, an initial target)."""

    def on_epoch_start(self, epoch: int, trainer) -> None:
        """Before each epoch; may replace or add optimisers in ``trainer.optimizers``."""

    def before_step(self, step: int) -> None:
        """After backward (and unscaling/clipping), before the optimiser step; may edit gradients."""

    def after_step(self, step: int) -> None:
        """After the optimiser step (momentum encoders, queues, EMA targets)."""
