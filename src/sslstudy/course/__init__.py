"""The course's shared text, one copy each: every week's questions for the group (English, then Korean) and the
English–Korean glossary of the course's terms.

- The canonical questions of a week are the section ``## Questions for the group · 함께 생각할 질문`` of its
  ``README.md``. :func:`sync` copies that section into ``sslstudy/course/questions/<week>.md``, which ships with
  the package, so a notebook on Colab (no checkout) shows the same list: ``course.show_questions("week01_dec")``.
- The glossary is ``sslstudy/course/glossary.md``, one Markdown table: English | 한국어 | 뜻 | first week.

Reading uses :mod:`importlib.resources` (works from an installed package) and falls back to the checkout.
``python -m sslstudy.course sync [--check]`` runs :func:`sync` from a shell.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

__all__ = ["SECTION_TITLE", "weeks", "questions", "show_questions", "glossary", "glossary_rows", "show_glossary",
           "sync"]

#: The heading of the canonical questions section in a week's README (and the first line of the shipped copy).
SECTION_TITLE = "## Questions for the group · 함께 생각할 질문"

_PACKAGE = __name__                                   # "sslstudy.course"
_QUESTIONS_DIR = "questions"
_GLOSSARY = "glossary.md"
_WEEK_DIR = re.compile(r"week\d{2}_[A-Za-z0-9]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

#: The repository root (the folder holding ``pyproject.toml`` and ``src/``) when running from a checkout, else None.
REPO_ROOT: Path | None = next(
    (p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists() and (p / "src").exists()),
    None,
)


# ---------------------------------------------------------------------------------------------------- reading
def _course_dir(base: Path | None) -> Path | None:
    """``src/sslstudy/course`` of a checkout (``base`` or the one this module sits in)."""
    root = Path(base) if base is not None else REPO_ROOT
    return None if root is None else root / "src" / "sslstudy" / "course"


def _read_shipped(*parts: str) -> str | None:
    """A data file of this package: first through importlib.resources, then from the checkout."""
    try:
        res = resources.files(_PACKAGE)
        for part in parts:
            res = res.joinpath(part)
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError, TypeError):
        pass
    course_dir = _course_dir(None)
    if course_dir is not None and course_dir.joinpath(*parts).is_file():
        return course_dir.joinpath(*parts).read_text(encoding="utf-8")
    return None


def weeks() -> list[str]:
    """The weeks whose questions ship with the package (``questions/<week>.md``), in course order."""
    found: set[str] = set()
    try:
        folder = resources.files(_PACKAGE).joinpath(_QUESTIONS_DIR)
        if folder.is_dir():
            found |= {f.name[:-3] for f in folder.iterdir() if f.name.endswith(".md")}
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError, TypeError):
        pass
    course_dir = _course_dir(None)
    if course_dir is not None and (course_dir / _QUESTIONS_DIR).is_dir():
        found |= {p.stem for p in (course_dir / _QUESTIONS_DIR).glob("*.md")}
    return sorted(w for w in found if _WEEK_DIR.fullmatch(w))


def _resolve_week(week) -> str:
    """``"week01_dec"``, ``"week01"``, ``"1"`` or ``1`` → ``"week01_dec"``; anything else: one clear sentence."""
    allowed = weeks()
    choices = ", ".join(allowed) if allowed else "none (run sslstudy.course.sync() in the checkout)"
    name = week.strip() if isinstance(week, str) else week
    if isinstance(name, str) and name in allowed:
        return name
    number = None
    if isinstance(name, int) and not isinstance(name, bool):
        number = name
    elif isinstance(name, str) and re.fullmatch(r"(week)?\d{1,2}", name):
        number = int(name.removeprefix("week"))
    if number is not None:
        match = [w for w in allowed if w.startswith(f"week{number:02d}_")]
        if match:
            return match[0]
    raise ValueError(f"week={week!r} is not allowed: the questions for the group exist for {choices}.")


def questions(week) -> str:
    """The Markdown of a week's canonical questions (the shipped copy of its README section).

    ``week``: the folder name, e.g. ``"week01_dec"`` (``"week01"`` or ``1`` also work).
    """
    name = _resolve_week(week)
    text = _read_shipped(_QUESTIONS_DIR, f"{name}.md")
    if text is None:  # listed by weeks() but unreadable: should not happen
        raise FileNotFoundError(f"The questions of {name} were listed but could not be read from the package.")
    return text


def glossary() -> str:
    """The Markdown of the course's English–Korean glossary (the shipped ``glossary.md``)."""
    text = _read_shipped(_GLOSSARY)
    if text is None:
        raise FileNotFoundError("The glossary (sslstudy/course/glossary.md) is missing from this installation.")
    return text


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(text: str) -> tuple[list[str], list[str]]:
    """The glossary table's header+separator lines and its data lines."""
    lines = [line for line in text.splitlines() if line.lstrip().startswith("|")]
    if len(lines) < 2:
        raise ValueError("The glossary holds no Markdown table.")
    return lines[:2], lines[2:]


def glossary_rows() -> list[dict]:
    """The glossary as rows: ``{"english", "korean", "meaning", "week"}`` each."""
    _, body = _table(glossary())
    rows = []
    for line in body:
        cells = _split_row(line)
        if len(cells) != 4:
            raise ValueError(f"Glossary row {line!r} has {len(cells)} cells; every row needs 4 "
                             f"(English | 한국어 | 뜻 | first week).")
        rows.append(dict(zip(("english", "korean", "meaning", "week"), cells)))
    return rows


# ---------------------------------------------------------------------------------------------------- showing
def _in_notebook() -> bool:
    """True in a Jupyter or Colab kernel (which renders Markdown); False in a terminal, IPython's included."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _show(markdown: str) -> None:
    if _in_notebook():
        from IPython.display import Markdown, display

        display(Markdown(markdown))
    else:
        print(markdown)


def show_questions(week) -> None:
    """Show a week's canonical questions: rendered Markdown in a notebook (Jupyter, Colab), printed elsewhere."""
    _show(questions(week))


def show_glossary(terms=None) -> None:
    """Show the glossary, or only the rows whose English or Korean contains one of ``terms`` (case-insensitive).

    ``terms``: None (every row), a string (``"대조"``) or a list of strings (``["collapse", "의사 레이블"]``).
    """
    if terms is None:
        _show(glossary())
        return
    if isinstance(terms, str):
        terms = [terms]
    if not all(isinstance(t, str) and t.strip() for t in terms):
        raise ValueError(f"terms={terms!r} is not allowed: give None, a non-empty string or a list of them.")
    head, body = _table(glossary())
    wanted = [t.strip().lower() for t in terms]
    rows = [line for line in body if any(t in " ".join(_split_row(line)[:2]).lower() for t in wanted)]
    if not rows:
        _show(f"No glossary term matches {', '.join(map(repr, terms))}; call show_glossary() for the whole table.")
        return
    _show("\n".join(head + rows))


# ---------------------------------------------------------------------------------------------------- syncing
def readme_section(text: str) -> str | None:
    """The questions section of a README's text (heading included, ending with one newline), or None."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip() == SECTION_TITLE]
    if not starts:
        return None
    if len(starts) > 1:
        raise ValueError(f"A README holds {len(starts)} sections {SECTION_TITLE!r}; keep exactly one.")
    end = next((j for j in range(starts[0] + 1, len(lines)) if re.match(r"#{1,2} ", lines[j])), len(lines))
    section = [line.rstrip() for line in lines[starts[0]:end]]
    while section and not section[-1]:
        section.pop()
    return "\n".join(section) + "\n"


def sync(check: bool = False, base=None) -> list[str]:
    """Copy each week README's questions section into ``src/sslstudy/course/questions/<week>.md``.

    ``base``: the checkout's root (default: the one this module sits in). Weeks without the section are skipped;
    a shipped copy whose README lost its section is removed. Returns the weeks whose copy differed (and, unless
    ``check=True``, has now been written or removed); ``sync(check=True) == []`` means everything is in step.
    """
    root = Path(base) if base is not None else REPO_ROOT
    if root is None or not root.is_dir():
        raise RuntimeError(f"base={base!r}: sync needs the course's git checkout (the folder holding the week "
                           f"READMEs); none was given or found.")
    target_dir = _course_dir(root) / _QUESTIONS_DIR
    differ = []
    seen = set()
    for readme in sorted(root.glob("week[0-9][0-9]_*/README.md")):
        week = readme.parent.name
        section = readme_section(readme.read_text(encoding="utf-8"))
        if section is None:
            continue
        seen.add(week)
        target = target_dir / f"{week}.md"
        if not target.is_file() or target.read_text(encoding="utf-8") != section:
            differ.append(week)
            if not check:
                target_dir.mkdir(parents=True, exist_ok=True)
                with open(target, "w", encoding="utf-8", newline="\n") as f:
                    f.write(section)
    for stale in sorted(target_dir.glob("*.md")) if target_dir.is_dir() else []:
        if stale.stem not in seen:
            differ.append(stale.stem)
            if not check:
                stale.unlink()
    return sorted(differ)
