"""Exercises the learner fills in: a blank, a checker, and a solution kept out of view.

In a notebook an exercise is a blank the learner fills and one call::

    answer = ...    # your code: the official update interval as a fraction of an epoch
    exercises.check("week01_dec.update_fraction", answer)

:func:`check` prints one of three verdicts and never raises, so a notebook with blank exercises still runs
top to bottom (CI executes it as it is):

- ``not attempted yet`` — the blank is still ``...``;
- ``correct ✓`` — the checker accepts the answer;
- ``not yet — <hint>`` — the checker rejects it (or checking it raised an error), with the exercise's hint.

**Checkers** live in this package, one module per notebook folder (``sslstudy/exercises/week01_dec.py``, …),
each registered with :func:`exercise`; a checker ``fn(answer, **context) -> bool`` may also raise
``AssertionError("a more specific hint")``. Exercise ids start with their module's name
(``"week01_dec.update_fraction"``). ``context`` carries what the notebook's cell passes along (a tensor the
answer was computed from, a function to call).

**Solutions** stay out of the learner's view, in ``solutions/<module>.py`` at the repository root: a dict
``CASES = {id: {"solution": …, "wrong": …, "context": {…}}}`` where ``solution`` / ``wrong`` are answers or
callables ``f(**context)`` that compute one. ``tests/test_exercises.py`` proves that every registered checker
accepts its solution, rejects the wrong answer and reports a blank as not attempted.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

NOT_ATTEMPTED = "not attempted yet"
CORRECT = "correct"
NOT_YET = "not yet"

#: exercise id → Exercise; filled by this package's modules when they are imported (:func:`load_all`).
REGISTRY: dict[str, "Exercise"] = {}


@dataclass
class Exercise:
    id: str
    checker: Callable[..., bool]
    hint: str


def exercise(id: str, hint: str) -> Callable:
    """Decorator: register ``fn(answer, **context) -> bool`` as the checker of exercise ``id``."""
    def register(fn):
        module = fn.__module__.rsplit(".", 1)[-1]
        if not id.startswith(module + "."):
            raise ValueError(f"Exercise id {id!r} must start with its module's name, {module + '.'!r}.")
        if id in REGISTRY and REGISTRY[id].checker.__qualname__ != fn.__qualname__:
            raise ValueError(f"Exercise id {id!r} is registered twice; every exercise needs its own id.")
        REGISTRY[id] = Exercise(id, fn, hint)
        return fn

    return register


def load_all() -> dict[str, Exercise]:
    """Import every checker module of this package; returns the registry."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY


def get(id: str) -> Exercise:
    """The registered exercise ``id`` (one clear sentence when there is none)."""
    if id not in REGISTRY:
        load_all()
    if id not in REGISTRY:
        raise KeyError(f"Exercise {id!r} does not exist; the known exercises are: {', '.join(sorted(REGISTRY))}.")
    return REGISTRY[id]


def verdict(id: str, answer, **context) -> tuple[str, str]:
    """(status, message) for ``answer``, without printing: NOT_ATTEMPTED, CORRECT or NOT_YET."""
    ex = get(id)
    if answer is Ellipsis:
        return NOT_ATTEMPTED, f"{id}: not attempted yet — replace `...` with your answer and run the cell again."
    try:
        ok = ex.checker(answer, **context)
    except AssertionError as e:
        return NOT_YET, f"{id}: not yet — {e or ex.hint}"
    except Exception as e:  # an answer of the wrong kind gets a hint, not a crash
        return NOT_YET, f"{id}: not yet — checking your answer raised {e.__class__.__name__}: {e}. Hint: {ex.hint}"
    if ok:
        return CORRECT, f"{id}: correct ✓"
    return NOT_YET, f"{id}: not yet — {ex.hint}"


def check(id: str, answer, **context) -> str:
    """Print the verdict on ``answer`` for exercise ``id`` and return its status; never raises on a wrong answer."""
    status, message = verdict(id, answer, **context)
    print(message)
    return status
