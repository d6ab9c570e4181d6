"""Checkers for the exercises of ``week09_wrapup/09_wrapup_code_analysis.ipynb`` (solutions: ``solutions/``)."""
import math

from . import exercise


def _pair(answer, kind=float) -> tuple:
    try:
        a, b = answer
    except (TypeError, ValueError):
        raise AssertionError(f"a pair (two values) is expected, got {answer!r}") from None
    return kind(a), kind(b)


@exercise("week09_wrapup_code.fix_pred_lr",
          hint="init_lr = base_lr · batch_size / 256; the encoder: init_lr · ½(1 + cos(π · epoch / epochs)); the "
               "predictor keeps init_lr")
def fix_pred_lr(answer, base_lr: float, batch_size: int, epoch: int, epochs: int) -> bool:
    """main_simsiam.py's adjust_learning_rate with --fix-pred-lr, computed here from its two lines."""
    init_lr = base_lr * batch_size / 256
    expected = (init_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs)), init_lr)
    got = _pair(answer)
    return all(abs(g - e) < 1e-9 for g, e in zip(got, expected))


@exercise("week09_wrapup_code.budget_images",
          hint="drop_last: n_train // batch_size steps per epoch, each of batch_size source images; the views are "
               "views × that many encoded images, and they are not what the budget counts")
def budget_images(answer, n_train: int, batch_size: int, epochs: int, views: int) -> bool:
    """The counted source images and the encoded views of an equal-budget run."""
    images = epochs * (n_train // batch_size) * batch_size
    return _pair(answer, int) == (images, views * images)
