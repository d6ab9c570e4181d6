"""Notebook tooling: export method code from the code-analysis notebooks, stamp Colab links, run notebooks
(papermill) and the whole course, and the convention checks the tests use.

**Export** (d2l's ``#@save`` / nbdev's ``#| export`` idea). A code-analysis notebook names its module once, in
a cell whose first line is ``#| default_exp <name>``; every code cell whose first line is ``#| export`` is
written, in order and without that marker line, to ``src/sslstudy/methods/<name>.py`` by ``make export``.
The spellings ``#|export``, ``# | export`` and ``# |export`` mean the same (nbdev accepts them too); any other
``#|`` directive on a cell's first line (a typo such as ``#| exprot``) is an error naming the notebook and the
cell, and so is a module claimed by two notebooks. ``tests/test_conventions.py`` fails when a module differs
from what its notebook would export.

**Running.** :func:`run_notebook` executes one notebook with papermill (``python -m sslstudy run``); a failure
raises :class:`NotebookFailed`, which names the cell (its index, counting every cell from 0 as papermill does,
and its first lines), the exception and the time until the failure. :func:`run_course` runs many
(``python -m sslstudy course``, ``make course``) and writes ``build/course_results.md`` and ``.json`` from the
run records the notebooks leave in ``SSL_RECORD_DIR`` (``report.emit``), else from their ``[headline]`` line.
"""
from __future__ import annotations

import json
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

from . import GIT_REF, REPO_SLUG
from .config import REPO_ROOT

EXPORT_MARK = "#| export"
#: A first line that is a ``#|`` directive, in any of the spellings ``#|x``, ``#| x``, ``# | x``, ``# |x``.
DIRECTIVE_RE = re.compile(r"^#\s*\|\s*(\S*)\s*(.*?)\s*$")
DIRECTIVES = ("export", "default_exp")
BADGE_RE = re.compile(r"https://colab\.research\.google\.com/github/([^/\s)\\\"]+/[^/\s)\\\"]+)/blob/([^/\s)\\\"]+)/([^\s)\\\"]+\.ipynb)")
SETUP_RE = re.compile(r"git\+https://github\.com/([^/\s@\"'\\]+/[^/\s@\"'\\]+)@([^\s\"'\\]+)")
HEADLINE_PREFIX = "[headline]"


def root() -> Path:
    if REPO_ROOT is None:
        raise RuntimeError("This command needs the course's git checkout (it was run from an installed package).")
    return REPO_ROOT


def course_notebooks(base: Path | None = None) -> list[Path]:
    """Every course notebook, in course order: notebooks/00_*, then week01 … week09 (template last)."""
    base = base or root()
    nbs = sorted((base / "notebooks").glob("[0-9]*.ipynb"))
    for week in sorted(base.glob("week[0-9][0-9]_*")):
        nbs += sorted(week.glob("[0-9][0-9]_*.ipynb"))
    nbs += sorted((base / "notebooks").glob("_*.ipynb"))
    return nbs


def read_nb(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


# ------------------------------------------------------------------------------------------------ export
def _rel(path: Path, outside: str = "path") -> str:
    """``path`` relative to the checkout; outside it, the full path (``outside="path"``) or the file name."""
    path = Path(path).resolve()
    try:
        return path.relative_to(root()).as_posix()
    except (RuntimeError, ValueError):
        return str(path) if outside == "path" else path.name


def directive(line: str, nb_path: Path | str = "notebook", index: int = 0) -> tuple[str, str] | None:
    """``("export", "")`` or ``("default_exp", "<module>")`` for a cell's first line, normalised; None when the
    line is not a ``#|`` directive. Unknown directives and malformed ones raise one sentence naming
    the notebook, the cell (index counting every cell from 0) and the line."""
    m = DIRECTIVE_RE.match(line.strip())
    if not m:
        return None
    word, arg = m.group(1), m.group(2)
    where = f"{_rel(nb_path) if isinstance(nb_path, Path) else nb_path}, cell {index}"
    if word not in DIRECTIVES:
        raise ValueError(f"{where}: unknown directive {line.strip()!r}; the export directives are '{EXPORT_MARK}' "
                         f"and '#| default_exp <module>' (spelled '#|', '#| ', '# |' or '# | ').")
    if word == "export" and arg:
        raise ValueError(f"{where}: {line.strip()!r} is not allowed: '{EXPORT_MARK}' takes no argument.")
    if word == "default_exp" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg):
        raise ValueError(f"{where}: {line.strip()!r} does not name a module; write '#| default_exp <module>' "
                         f"with a Python identifier, e.g. '#| default_exp simclr'.")
    return word, arg


def exported_module(nb_path: Path) -> tuple[str, str] | None:
    """(module name, module text) that ``nb_path`` exports, or None if it exports nothing."""
    nb_path = Path(nb_path)
    nb = read_nb(nb_path)
    name, name_cell, chunks = None, None, []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = _src(cell).splitlines()
        if not lines:
            continue
        found = directive(lines[0], nb_path, index)
        if found is None:
            continue
        word, arg = found
        if word == "default_exp":
            if name is not None and arg != name:
                raise ValueError(f"{_rel(nb_path)} names two modules ('{name}' in cell {name_cell}, '{arg}' in cell "
                                 f"{index}); a notebook exports exactly one module.")
            name, name_cell = arg, index
        else:
            chunks.append("\n".join(lines[1:]).strip("\n"))
    if not chunks:
        return None
    if name is None:
        raise ValueError(f"{_rel(nb_path)} marks cells '{EXPORT_MARK}' but has no '#| default_exp <module>' cell.")
    header = (f"# AUTOGENERATED from {_rel(nb_path, 'name')} by `make export`: edit the notebook, not this file.\n"
              f"# Each block below is one '{EXPORT_MARK}' cell of the notebook, in order.\n")
    return name, header + "\n\n\n".join(chunks) + "\n"


def exported_modules(base: Path | None = None) -> dict[str, tuple[Path, str]]:
    """module name → (notebook, module text) for every course notebook that exports; a module claimed by two
    notebooks is an error. The templates (``notebooks/_*.ipynb``) show the export cells as they are written but
    export nothing."""
    out: dict[str, tuple[Path, str]] = {}
    for nb in course_notebooks(base or root()):
        found = exported_module(nb)            # templates' directives are checked too …
        if found is None or nb.name.startswith("_"):
            continue                           # … but a template (notebooks/_*.ipynb) writes no module
        name, text = found
        if name in out:
            raise ValueError(f"Module '{name}' is claimed by two notebooks, {_rel(out[name][0])} and {_rel(nb)}; "
                             f"each module in src/sslstudy/methods comes from one notebook's '#| default_exp' cell.")
        out[name] = (nb, text)
    return out


def export_all(check: bool = False, base: Path | None = None) -> list[str]:
    """Write (or, with ``check``, compare) every exported module. Returns the list of modules that differ."""
    base = base or root()
    drift = []
    for name, (nb, text) in exported_modules(base).items():
        target = base / "src" / "sslstudy" / "methods" / f"{name}.py"
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            drift.append(f"{target.relative_to(base)} (from {nb.relative_to(base)})")
            if not check:
                target.write_text(text, encoding="utf-8")
    return drift


# ------------------------------------------------------------------------------------------------ colab
def colab_url(nb_path: Path, slug: str = REPO_SLUG, ref: str = GIT_REF) -> str:
    rel = nb_path.resolve().relative_to(root()).as_posix()
    return f"https://colab.research.google.com/github/{slug}/blob/{ref}/{rel}"


def restamp_colab(slug: str, ref: str = GIT_REF) -> list[Path]:
    """Point every badge and setup cell at ``slug``@``ref``, and record them in ``sslstudy/__init__.py``."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", slug):
        raise ValueError(f"SLUG={slug!r} is not allowed: write it as owner/repository, e.g. jwkanggist/self-supervised-learning-narratives-1.")
    changed = []
    readmes = sorted(root().glob("README*.md")) + sorted(root().glob("week*/README.md"))
    for path in list(course_notebooks()) + readmes:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":   # a notebook's badge opens the notebook itself
            new = BADGE_RE.sub(lambda m, path=path: colab_url(path, slug, ref), text)
        else:                         # a README's badges keep the notebook each one names
            new = BADGE_RE.sub(lambda m: f"https://colab.research.google.com/github/{slug}/blob/{ref}/{m.group(3)}", text)
        new = SETUP_RE.sub(f"git+https://github.com/{slug}@{ref}", new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    init = root() / "src" / "sslstudy" / "__init__.py"
    s = init.read_text(encoding="utf-8")
    s = re.sub(r'REPO_SLUG = "[^"]*"', f'REPO_SLUG = "{slug}"', s)
    s = re.sub(r'GIT_REF = "[^"]*"', f'GIT_REF = "{ref}"', s)
    init.write_text(s, encoding="utf-8")
    return changed


# ------------------------------------------------------------------------------------------------ conventions
def convention_problems(nb_path: Path, slug: str = REPO_SLUG, ref: str = GIT_REF) -> list[str]:
    """What a course notebook lacks: title, badge (pointing at itself), setup cell, parameters cell, no outputs."""
    nb = read_nb(nb_path)
    cells = nb.get("cells", [])
    problems = []
    if not cells or cells[0]["cell_type"] != "markdown" or not _src(cells[0]).lstrip().startswith("# "):
        problems.append("the first cell is not a Markdown title ('# …')")
    text0 = _src(cells[0]) if cells else ""
    badges = BADGE_RE.findall(text0)
    want = colab_url(nb_path, slug, ref)
    if not badges:
        problems.append("the title cell has no 'Open in Colab' badge")
    elif any(f"https://colab.research.google.com/github/{s}/blob/{r}/{p}" != want for s, r, p in badges):
        problems.append(f"the Colab badge does not point at this notebook ({want})")
    setup = [c for c in cells if c["cell_type"] == "code" and "google.colab" in _src(c)]
    if not setup:
        problems.append("no setup cell (a code cell that installs the package on Colab)")
    else:
        for s, r in SETUP_RE.findall(_src(setup[0])):
            if (s, r) != (slug, ref):
                problems.append(f"the setup cell installs {s}@{r}, not {slug}@{ref}")
        if re.search(r"pip install[^\n]*\btorch\b", _src(setup[0])):
            problems.append("the setup cell (re)installs torch; Colab's own torch must be kept")
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells):
        problems.append("no cell tagged 'parameters'")
    if any(c.get("outputs") for c in cells if c["cell_type"] == "code"):
        problems.append("stores outputs (run `make strip`)")
    if any(c.get("execution_count") for c in cells if c["cell_type"] == "code"):
        problems.append("stores execution counts (run `make strip`)")
    return problems


def strip_outputs(paths=None) -> list[Path]:
    """Remove outputs, execution counts and widget state from notebooks; returns those changed."""
    changed = []
    for p in paths or course_notebooks():
        p = Path(p)
        nb = read_nb(p)
        before = json.dumps(nb, sort_keys=True)
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                c["outputs"], c["execution_count"] = [], None
            c.get("metadata", {}).pop("execution", None)
        nb.get("metadata", {}).pop("widgets", None)
        if json.dumps(nb, sort_keys=True) != before:
            p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(p)
    return changed


# ------------------------------------------------------------------------------------------------ running
def headline(text: str) -> None:
    """Print the notebook's one-line result; ``make course`` collects it into its table."""
    print(f"{HEADLINE_PREFIX} {text}")


def _find_headline(nb: dict) -> str:
    found = ""
    for c in nb.get("cells", []):
        for o in c.get("outputs", []):
            text = "".join(o.get("text", "")) if o.get("output_type") == "stream" else ""
            for line in text.splitlines():
                if line.startswith(HEADLINE_PREFIX):
                    found = line[len(HEADLINE_PREFIX):].strip()
    return found


def parse_params(pairs) -> dict:
    """``[("mode", "full"), ("seed", "3")]`` → values parsed as JSON or a Python literal where possible
    (``3``, ``true``/``True``, ``null``/``None``, ``0.5``), else kept as text (``full``)."""
    import ast

    out = {}
    for name, value in pairs or []:
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            try:
                out[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                out[name] = value
    return out


#: Backends that draw nowhere: a kernel started with one of them leaves no figure in the executed copy.
NON_INTERACTIVE_BACKENDS = ("agg",)
RECORD_DIR_ENV = "SSL_RECORD_DIR"


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


class NotebookFailed(RuntimeError):
    """A notebook stopped with an error: which cell, which exception, after how long, and where the executed
    copy (with the full traceback) is. ``cell_index`` counts every cell of the source notebook from 0."""

    def __init__(self, notebook: Path, seconds: float, output: Path | None, *, cell_index: int | None = None,
                 source: str = "", ename: str = "", evalue: str = ""):
        self.notebook, self.seconds, self.output = Path(notebook), float(seconds), output
        self.cell_index, self.source, self.ename, self.evalue = cell_index, source, ename, evalue
        super().__init__(self.summary())

    def summary(self) -> str:
        where = f" in cell {self.cell_index}" if self.cell_index is not None else ""
        first = (self.evalue or "").strip().splitlines()
        return (f"{_rel(self.notebook)} failed after {self.seconds:.0f} s{where}: {self.ename}"
                + (f": {first[0][:300]}" if first else ""))

    def report(self, source_lines: int = 4) -> str:
        """A few lines for a person: the summary, the failing cell's first lines, the rest of the message."""
        lines = [f"FAILED after {self.seconds:.1f} s" + (f" in cell {self.cell_index}" if self.cell_index is not None
                                                         else "") + f" of {_rel(self.notebook)}"]
        src = self.source.splitlines()
        lines += [f"  | {line}" for line in src[:source_lines]]
        if len(src) > source_lines:
            lines.append(f"  | … ({len(src) - source_lines} more lines)")
        msg = (self.evalue or "").strip().splitlines()
        lines.append(f"  {self.ename}: {msg[0] if msg else ''}".rstrip())
        lines += [f"  {m}" for m in msg[1:6]]
        if self.output is not None and Path(self.output).exists():
            lines.append(f"  full traceback in the executed copy: {_rel(self.output)}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"cell_index": self.cell_index, "source": self.source, "ename": self.ename, "evalue": self.evalue,
                "seconds": self.seconds, "executed": _rel(self.output) if self.output else None}


def _failure(path: Path, output: Path, seconds: float, error: BaseException) -> NotebookFailed:
    """Turn papermill's exception into a :class:`NotebookFailed` with the cell index of the *source* notebook."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(error, PapermillExecutionError):
        return NotebookFailed(path, seconds, output, ename=type(error).__name__, evalue=str(error))
    index = error.cell_index
    try:  # papermill counts the cells of the executed copy: minus its error banners, plus the injected parameters
        cells = [c for c in read_nb(output)["cells"] if "papermill-error-cell-tag" not in _tags(c)]
        index -= sum("injected-parameters" in _tags(c) for c in cells[:error.cell_index])
    except (OSError, ValueError, KeyError):
        pass
    return NotebookFailed(path, seconds, output, cell_index=index, source=error.source or "", ename=error.ename,
                          evalue=error.evalue)


@contextmanager
def _environ(changes: dict):
    """Set (value) or unset (None) environment variables while papermill starts the kernel, which inherits them."""
    saved = {k: os.environ.get(k) for k in changes}
    try:
        for k, v in changes.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def kernel_env(env: dict | None = None) -> dict:
    """The environment changes for a notebook's kernel: ``env`` plus dropping an inherited ``MPLBACKEND=Agg``
    (CI and ``make test`` set it), so the kernel uses Jupyter's inline backend and the executed copy keeps its
    figures."""
    changes = {}
    if os.environ.get("MPLBACKEND", "").strip().lower() in NON_INTERACTIVE_BACKENDS:
        changes["MPLBACKEND"] = None
    changes.update(env or {})
    return changes


def run_notebook(path, params: dict | None = None, output: Path | None = None, timeout: int | None = None,
                 quiet: bool = False, env: dict | None = None) -> tuple[Path, float, str]:
    """Execute one notebook with papermill (parameters injected after the cell tagged ``parameters``).

    Runs in the notebook's own folder; writes the executed copy to ``output`` (default ``build/<same path>``).
    ``env`` sets (or, with None, unsets) environment variables for the kernel; an inherited ``MPLBACKEND=Agg``
    is always dropped (figures are kept). Returns (executed copy, wall seconds, headline); a failure raises
    :class:`NotebookFailed`.
    """
    import papermill as pm

    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"Notebook {path} does not exist; list them with `python -m sslstudy course --list`.")
    if output is None:
        try:
            output = root() / "build" / path.relative_to(root())
        except (RuntimeError, ValueError):
            output = path.with_name(path.stem + ".executed.ipynb")
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        with _environ(kernel_env(env)):
            pm.execute_notebook(str(path), str(output), parameters=params or {}, cwd=str(path.parent),
                                kernel_name="python3", progress_bar=False, log_output=not quiet,
                                execution_timeout=timeout)
    except Exception as e:  # every failure is reported the same way: cell, exception, time until it
        raise _failure(path, output, time.perf_counter() - t0, e) from e
    seconds = time.perf_counter() - t0
    return output, seconds, _find_headline(read_nb(output))


def select_notebooks(patterns) -> list[Path]:
    """Notebooks named by paths or glob patterns (taken from the repository root, e.g. ``notebooks/_template*.ipynb``),
    in course order; a pattern that matches nothing is an error."""
    order = {p.resolve(): i for i, p in enumerate(course_notebooks())}
    found: list[Path] = []
    for pattern in patterns:
        direct = Path(pattern)
        if direct.is_file():
            hits = [direct.resolve()]
        else:
            hits = sorted(p.resolve() for p in root().glob(str(pattern)) if p.suffix == ".ipynb")
        if not hits:
            raise ValueError(f"--notebooks {str(pattern)!r} matches no notebook; give paths or glob patterns from the "
                             f"repository root, e.g. 'notebooks/00_*.ipynb'.")
        found += [h for h in hits if h not in found]
    return sorted(found, key=lambda p: (order.get(p, len(order)), str(p)))


def read_records(record_dir: Path, nb: Path, since: float = 0.0) -> list[dict]:
    """The run records a notebook left in ``record_dir`` (``report.emit`` with ``SSL_RECORD_DIR`` set):
    ``<notebook stem>.json`` if present, else every ``*.json`` written since ``since`` whose ``notebook`` field
    (if any) names this notebook. A file may hold one record (an object) or a list of them."""
    record_dir, nb = Path(record_dir), Path(nb)
    if not record_dir.is_dir():
        return []
    exact = record_dir / f"{nb.stem}.json"
    files = [exact] if exact.is_file() else sorted(
        (f for f in record_dir.glob("*.json") if f.stat().st_mtime >= since - 0.5), key=lambda f: f.stat().st_mtime)
    records = []
    for f in files:
        try:
            obj = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for rec in obj if isinstance(obj, list) else [obj]:
            if not isinstance(rec, dict):
                continue
            named = str(rec.get("notebook") or "")
            if f is exact or not named or Path(named).stem == nb.stem:
                records.append(rec)
    return records


def _fmt_scores(records: list[dict]) -> str:
    parts = []
    for rec in records:
        scores = rec.get("scores") or {}
        text = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in scores.items()
                         if isinstance(v, (int, float, str)))
        if not text and rec.get("rows"):
            text = f"{len(rec['rows'])} rows"
        if text:
            parts.append(f"{rec['name']}: {text}" if len(records) > 1 and rec.get("name") else text)
    return "; ".join(parts)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def run_course(week: str | None = None, params: dict | None = None, timeout: int | None = 900,
               notebooks=None, build: Path | str | None = None) -> list[dict]:
    """Execute every course notebook (or one week's, or those ``notebooks`` names: paths or globs) into ``build``
    (default ``build/``), print a table and write ``course_results.md`` and ``course_results.json`` there.

    Each kernel gets ``SSL_RECORD_DIR=<build>/records``; the table's headline and scores come from the run
    records the notebook leaves there, else from its ``[headline]`` line. A failing notebook is reported (cell,
    exception, time until the failure) and the others still run; the caller exits non-zero.
    """
    nbs = select_notebooks(notebooks) if notebooks else course_notebooks()
    if week:
        nbs = [p for p in nbs if p.parent.name == week or p.stem == week or p.name == week]
        if not nbs:
            weeks = sorted({p.parent.name for p in course_notebooks()})
            raise ValueError(f"WEEK={week!r} matches no notebook; use one of: {', '.join(weeks)}.")
    build = Path(build).resolve() if build else root() / "build"
    record_dir = build / "records"
    record_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for nb in nbs:
        rel = _rel(nb)
        out = build / rel if not Path(rel).is_absolute() else build / nb.name
        print(f"▶ {rel} …", flush=True)
        (record_dir / f"{nb.stem}.json").unlink(missing_ok=True)  # never report a previous run's record
        since = time.time()
        row = {"notebook": rel, "executed": _rel(out)}
        try:
            _, secs, head = run_notebook(nb, params, output=out, timeout=timeout, quiet=True,
                                         env={RECORD_DIR_ENV: str(record_dir)})
        except NotebookFailed as f:
            row.update(status="FAILED", seconds=f.seconds, headline=f"{f.ename}: {(f.evalue or '').strip()[:120]}",
                       scores="", records=[], failure=f.as_dict(), report=f.report())
            print("\n".join("  " + line for line in f.report().splitlines()), flush=True)
        else:
            records = read_records(record_dir, nb, since)
            heads = [str(r["headline"]) for r in records if r.get("headline")]
            row.update(status="ok", seconds=secs, headline=" · ".join(heads) or head, scores=_fmt_scores(records),
                       records=records, failure=None)
            print(f"  ok in {secs:.0f} s  {row['headline']}", flush=True)
        rows.append(row)
    table = ["| notebook | wall time (s) | status | headline | scores |", "| --- | ---: | --- | --- | --- |"]
    table += [f"| {r['notebook']} | {r['seconds']:.0f} | {r['status']} | {_cell(r['headline'])} | {_cell(r['scores'])} |"
              for r in rows]
    text = "\n".join(table)
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        text += f"\n\n{len(failed)} of {len(rows)} notebook(s) FAILED:\n\n" + "\n\n".join(
            "```\n" + r["report"] + "\n```" for r in failed)
    print("\n" + text)
    build.mkdir(parents=True, exist_ok=True)
    (build / "course_results.md").write_text(text + "\n", encoding="utf-8")
    summary = {"schema": 1, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "params": params or {},
               "notebooks": [{k: v for k, v in r.items() if k != "report"} for r in rows]}
    (build / "course_results.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str) + "\n",
                                               encoding="utf-8")
    return rows
