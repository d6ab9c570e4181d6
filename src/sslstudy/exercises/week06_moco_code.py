"""Checkers of the exercises in ``week06_moco/06_moco_code_analysis.ipynb`` (solutions: ``solutions/``)."""
import math

import torch

from sslstudy.exercises import exercise


def _number(answer, what: str) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise AssertionError(f"the answer is a number: {what}.")
    return float(answer)


@exercise("week06_moco_code.key_age",
          hint="a key stays K / (keys enqueued per step) steps; the symmetric loss enqueues both crops' keys, 2·B per "
               "step.")
def key_age(answer):
    value = _number(answer, "the number of steps a key stays in the queue")
    if math.isclose(value, 1024 / 256):
        raise AssertionError("that is K / B for the asymmetric loss; the symmetric loss enqueues the keys of both "
                             "crops, 2·B per step.")
    return math.isclose(value, 1024 / (2 * 256))


@exercise("week06_moco_code.half_life",
          hint="the lag after n steps is m**n times the first one: solve 0.99**n = 0.5, n = log(0.5) / log(0.99).")
def half_life(answer):
    value = _number(answer, "a number of steps")
    if math.isclose(value, 0.5 / 0.01, rel_tol=1e-3) or math.isclose(value, 100.0):
        raise AssertionError("1 / (1 − m) = 100 steps is the time constant (the lag shrinks by a factor e); the "
                             "half-life is log(0.5) / log(m).")
    return abs(value - math.log(0.5) / math.log(0.99)) < 0.5


@exercise("week06_moco_code.split_bn_chunk",
          hint="with s = 4 sub-batches of 8 images, chunk 2 is x[4:6]; its mean and biased variance per channel are "
               "over dims (0, 2, 3): c = x[4:6]; (c − c.mean((0, 2, 3), keepdim=True)) / sqrt(c.var((0, 2, 3), "
               "unbiased=False, keepdim=True) + 1e-5).")
def split_bn_chunk(answer, x):
    from sslstudy.methods.moco import SplitBatchNorm

    if not isinstance(answer, torch.Tensor) or tuple(answer.shape) != (2, *x.shape[1:]):
        raise AssertionError(f"the answer is a tensor of shape {(2, *x.shape[1:])}: chunk 2 (rows 4 and 5), "
                             f"normalised.")
    bn = SplitBatchNorm(x.shape[1], num_splits=4).train()
    expected = bn(x)[4:6].detach()
    whole = torch.nn.functional.batch_norm(x, None, None, training=True)[4:6]
    if torch.allclose(answer.detach().float(), whole, atol=1e-4):
        raise AssertionError("those are rows 4-5 normalised with the statistics of the whole batch (a plain BN); "
                             "SplitBatchNorm uses the chunk's own mean and variance.")
    return bool(torch.allclose(answer.detach().float(), expected, atol=1e-4))
