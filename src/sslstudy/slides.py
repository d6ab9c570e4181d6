"""The presenter's route: a 45-minute plan at the top of every notebook, and slide-type metadata on every cell
that follows it (so a slide export — nbconvert's reveal.js exporter — needs no hand work).

Conventions (checked by ``tests/test_conventions.py``):

- The title cell is followed, within the first three cells, by a Markdown cell whose first line is
  ``**Presenter's route (45 min)** · 발표 순서`` and that holds a table: part | minutes | show | skip.
  The minutes add up to at most 50.
- Every cell carries ``metadata.slideshow.slide_type``: ``slide`` for ``#``/``##`` headings, ``subslide`` for
  ``###``, ``skip`` for plumbing, ``-`` (continue the current slide) for the rest, unless a cell sets its own
  (``fragment``, ``notes``).
- Plumbing (result-file writing, thread-count notes, fallback branches) is tagged ``plumbing``, collapsed
  (``metadata.jupyter.source_hidden``) and skipped in slides.

``python -m sslstudy slides --stamp`` (or :func:`stamp` on a path) fills in the metadata from those rules.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .nbtools import _src

ROUTE_MARK = "**Presenter's route (45 min)**"
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
PLUMBING_TAG = "plumbing"


def _rule(cell) -> str:
    text = _src(cell).lstrip()
    tags = cell.get("metadata", {}).get("tags", [])
    if PLUMBING_TAG in tags:
        return "skip"
    if cell["cell_type"] == "markdown":
        if re.match(r"#{1,2} ", text):
            return "slide"
        if text.startswith("### "):
            return "subslide"
    return "-"


def stamp(path, write: bool = True) -> int:
    """Give every cell of the notebook at ``path`` a slide type by the rules above (cells that already have one
    keep it) and collapse the plumbing cells. Returns how many cells changed."""
    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = 0
    for cell in nb["cells"]:
        meta = cell.setdefault("metadata", {})
        before = json.dumps(meta, sort_keys=True)
        show = meta.setdefault("slideshow", {})
        if show.get("slide_type") not in SLIDE_TYPES:
            show["slide_type"] = _rule(cell)
        if PLUMBING_TAG in meta.get("tags", []):
            show["slide_type"] = "skip"
            meta.setdefault("jupyter", {})["source_hidden"] = True
        changed += json.dumps(meta, sort_keys=True) != before
    if write and changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def route_minutes(text: str) -> list[int]:
    """The minutes column of a route table (the second column of each body row)."""
    minutes = []
    for line in text.splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) >= 2 and re.fullmatch(r"\d+", cols[1]):
            minutes.append(int(cols[1]))
    return minutes


def problems(path) -> list[str]:
    """What the notebook at ``path`` lacks for a presenter: the route cell, slide types, collapsed plumbing."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    out = []
    route = [c for c in cells[:3] if c["cell_type"] == "markdown" and _src(c).lstrip().startswith(ROUTE_MARK)]
    if not route:
        out.append(f"no presenter's route: a Markdown cell starting with {ROUTE_MARK!r} among the first three cells")
    else:
        minutes = route_minutes(_src(route[0]))
        if len(minutes) < 3:
            out.append("the presenter's route has fewer than 3 parts with minutes (table: part | minutes | show | skip)")
        elif sum(minutes) > 50:
            out.append(f"the presenter's route adds up to {sum(minutes)} minutes; it must fit a 45-minute slot")
    missing = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    if missing:
        out.append(f"cells without a slide type: {missing[:10]}{' …' if len(missing) > 10 else ''} (run `python -m sslstudy slides --stamp`)")
    for i, c in enumerate(cells):
        meta = c.get("metadata", {})
        if PLUMBING_TAG in meta.get("tags", []) and not (meta.get("jupyter", {}).get("source_hidden")
                                                          and meta.get("slideshow", {}).get("slide_type") == "skip"):
            out.append(f"plumbing cell {i} is not collapsed and skipped")
    return out
