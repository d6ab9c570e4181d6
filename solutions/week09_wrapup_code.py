"""Solutions of the exercises of ``week09_wrapup/09_wrapup_code_analysis.ipynb`` (tested by tests/test_exercises.py)."""
import math

CASES = {
    "week09_wrapup_code.fix_pred_lr": {
        "context": {"base_lr": 0.05, "batch_size": 512, "epoch": 25, "epochs": 100},
        "solution": lambda base_lr, batch_size, epoch, epochs: (
            base_lr * batch_size / 256 * 0.5 * (1 + math.cos(math.pi * epoch / epochs)), base_lr * batch_size / 256),
        "wrong": lambda base_lr, batch_size, epoch, epochs: (      # the predictor decayed as well
            base_lr * batch_size / 256 * 0.5 * (1 + math.cos(math.pi * epoch / epochs)),) * 2,
    },
    "week09_wrapup_code.budget_images": {
        "context": {"n_train": 4_000, "batch_size": 128, "epochs": 3, "views": 2},
        "solution": lambda n_train, batch_size, epochs, views: (
            epochs * (n_train // batch_size) * batch_size, views * epochs * (n_train // batch_size) * batch_size),
        "wrong": lambda n_train, batch_size, epochs, views: (epochs * n_train, views * epochs * n_train),   # no drop_last
    },
}
