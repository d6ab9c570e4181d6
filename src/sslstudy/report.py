"""The run record (one JSON schema for every notebook and script) and the stored results of each week.

A notebook ends with::

    rec = report.record("simclr", S, scores={"kNN": 0.38, "linear": 0.49},
                        notebook="08_simclr_code_analysis", wall_seconds=time.time() - t0,
                        headline=f"SimCLR kNN {knn:.3f} vs random init {rnd:.3f}")
    report.emit(rec)  # prints "[headline] …"; with SSL_RECORD_DIR set (make course) also writes the record

A record is a plain dict (JSON):

| field | meaning |
| --- | --- |
| ``schema`` | ``1`` |
| ``name``, ``notebook``, ``headline`` | what ran, from which notebook (or ``None``), its one-line result |
| ``settings`` | the run's configuration: ``Settings.key()`` (name, mode, seed, every knob) or a plain dict |
| ``seed``, ``mode`` | from the settings (``None`` when the rows hold several seeds) |
| ``threads``, ``torch``, ``device``, ``date`` | torch threads and version, device, UTC date (filled in) |
| ``wall_seconds`` | the run's wall time, or ``None`` |
| ``scores`` / ``rows`` | numbers by name (or a dict of them per method) and/or a list of table rows |
| ``command``, ``machine``, ``notes`` | how to reproduce it; platform and core count (no host name); text |

Stored results live in ``src/sslstudy/results/<week>.json``, as ``{"schema": 1, "week": ..., "records":
[...]}``; they are installed with the package, so :func:`stored` finds them on Colab too.
"""
from __future__ import annotations

import json
import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

from . import config
from .nbtools import HEADLINE_PREFIX as HEADLINE_PREFIX  # one prefix, re-exported
from .nbtools import headline

SCHEMA = 1
FIELDS = ("schema", "name", "notebook", "headline", "settings", "seed", "mode", "threads", "torch", "device",
          "date", "wall_seconds", "scores", "rows", "command", "machine", "notes")
#: Fields ``record`` fills from the environment; a keyword argument of the same name overrides it.
ENVIRONMENT = ("seed", "mode", "threads", "torch", "device", "date", "machine")
RESULTS_PACKAGE = "sslstudy.results"


# -------------------------------------------------------------------------------------------- the record
def machine() -> str:
    """Platform and core count (and the GPU's model when CUDA is present); never a host name or a path."""
    import torch

    text = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"
    if torch.cuda.is_available():
        text += f", {torch.cuda.get_device_name(0)}"
    return text


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M UTC")


def _environment() -> dict:
    import torch

    try:
        device = str(config.get_device())
    except ValueError:
        device = None
    return {"threads": torch.get_num_threads(), "torch": torch.__version__, "device": device, "date": _now(),
            "machine": machine()}


def record(name: str, settings=None, scores=None, rows=None, *, wall_seconds=None, command=None, notes=None,
           notebook=None, headline=None, **environment) -> dict:
    """One run record (a JSON-able dict with every field of :data:`FIELDS`).

    ``settings``: a :class:`sslstudy.config.Settings` (its ``key()`` is stored, and its seed and mode), a
    plain dict, or None. ``scores``: ``{"kNN": 0.38}`` or ``{"DEC": {"acc": 0.81, "nmi": 0.84}, ...}``;
    ``rows``: a list of dicts (a table). threads, torch, device, date and machine are read from this
    process; a keyword of the same name (or ``seed``/``mode``) overrides one, e.g. to convert an older run.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"Record name {name!r} is not allowed: give a non-empty string such as 'simclr'.")
    unknown = sorted(set(environment) - set(ENVIRONMENT))
    if unknown:
        raise ValueError(f"record() got {', '.join(unknown)}, which it does not know: the fields it lets you "
                         f"override are {', '.join(ENVIRONMENT)}.")
    if isinstance(settings, config.Settings):
        settings_dict = settings.key()
    elif settings is None or isinstance(settings, dict):
        settings_dict = config.jsonable(settings or {}, "settings")
    else:
        raise ValueError(f"settings={settings!r} is not allowed: pass the notebook's config.Settings, a dict "
                         "or None.")
    if scores is not None and not isinstance(scores, dict):
        raise ValueError(f"scores={scores!r} is not allowed: it must be a dict such as {{'kNN': 0.38}}.")
    if rows is not None and not (isinstance(rows, (list, tuple)) and all(isinstance(r, dict) for r in rows)):
        raise ValueError(f"rows={rows!r} is not allowed: it must be a list of dicts (one per table row).")
    if wall_seconds is not None and not isinstance(wall_seconds, (int, float)):
        raise ValueError(f"wall_seconds={wall_seconds!r} is not allowed: it must be a number of seconds.")
    env = _environment()
    env.update({"seed": settings_dict.get("seed"), "mode": settings_dict.get("mode")})
    env.update(environment)
    rec = {
        "schema": SCHEMA, "name": name, "notebook": notebook, "headline": headline, "settings": settings_dict,
        "seed": env["seed"], "mode": env["mode"], "threads": env["threads"], "torch": env["torch"],
        "device": env["device"], "date": env["date"],
        "wall_seconds": None if wall_seconds is None else round(float(wall_seconds), 1),
        "scores": config.jsonable(scores, "scores"),
        "rows": None if rows is None else config.jsonable(list(rows), "rows"),
        "command": command, "machine": env["machine"], "notes": notes,
    }
    return config.jsonable(rec, "record")


def _check_record(rec, where: str = "record") -> dict:
    if not isinstance(rec, dict) or rec.get("schema") != SCHEMA or not rec.get("name"):
        raise ValueError(f"{where} is not a run record: expected a dict from report.record() (schema "
                         f"{SCHEMA}, with a name).")
    return config.jsonable(rec, where)


# -------------------------------------------------------------------------------------------- saving, finding
def _checkout_results() -> Path | None:
    return None if config.REPO_ROOT is None else config.REPO_ROOT / "src" / "sslstudy" / "results"


def _check_week(week) -> str:
    ok = isinstance(week, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", week) is not None
    if not ok or week.endswith(".json"):
        raise ValueError(f"week={week!r} is not allowed: give a week folder name such as 'week08_simclr' "
                         "(letters, digits, '_', '-', '.') or a path ending in .json.")
    return week


def _is_path(week_or_path) -> bool:
    is_json = isinstance(week_or_path, str) and week_or_path.endswith(".json")
    return isinstance(week_or_path, Path) or is_json


def save(records, week_or_path, *, about: str | None = None) -> Path:
    """Write records to ``src/sslstudy/results/<week>.json`` of the checkout (or to a ``.json`` path) as
    ``{"schema": 1, "week": ..., "records": [...]}`` (plus ``about`` when given); returns the path.

    The file is replaced: to add a record, save ``stored(week)["records"] + [new]``.
    """
    if isinstance(records, dict):
        records = [records]
    records = [_check_record(r, f"records[{i}]") for i, r in enumerate(records)]
    if _is_path(week_or_path):
        path = Path(week_or_path)
        week = path.stem
    else:
        week = _check_week(week_or_path)
        folder = _checkout_results()
        if folder is None:
            raise RuntimeError(f"save(records, {week!r}) writes into the course checkout, and this sslstudy "
                               "is an installed copy: pass a path ending in .json instead.")
        path = folder / f"{week}.json"
    data = {"schema": SCHEMA, "week": week}
    if about:
        data["about"] = about
    data["records"] = records
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _load(text: str, where: str) -> dict:
    data = json.loads(text)
    ok = isinstance(data, dict) and data.get("schema") == SCHEMA and isinstance(data.get("records"), list)
    if not ok:
        raise ValueError(f"{where} is not a stored-results file of schema {SCHEMA} "
                         "({'schema': 1, 'week': ..., 'records': [...]}).")
    return data


def stored(week: str) -> dict | None:
    """The week's stored results ``{"schema", "week", "records": [...]}``, or None (printing where it looked).

    Looks in the checkout (``src/sslstudy/results/<week>.json``), then in the installed package's data (a pip
    or Colab install without the repository); ``week`` may also be a path to such a file.
    """
    if _is_path(week):
        path = Path(week)
        if path.is_file():
            return _load(path.read_text(encoding="utf-8"), str(path))
        print(f"No stored results at {path}: the file does not exist.")
        return None
    week = _check_week(week)
    looked = []
    folder = _checkout_results()
    if folder is not None:
        path = folder / f"{week}.json"
        if path.is_file():
            return _load(path.read_text(encoding="utf-8"), str(path))
        looked.append(f"the checkout ({path})")
    else:
        looked.append("a course checkout (none found)")
    try:
        from importlib.resources import files

        res = files(RESULTS_PACKAGE) / f"{week}.json"
        if res.is_file():
            return _load(res.read_text(encoding="utf-8"), f"{RESULTS_PACKAGE}/{week}.json")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    looked.append(f"the installed package (sslstudy/results/{week}.json)")
    print(f"No stored results for {week!r}: looked in {' and in '.join(looked)}.")
    return None


# ------------------------------------------------------------------------------------------------ showing
def _cell(v) -> str:
    if isinstance(v, bool) or v is None:
        text = "–" if v is None else str(v)
    elif isinstance(v, float):
        text = f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    elif isinstance(v, (list, tuple)):
        short = len(v) <= 4 and not any(isinstance(x, (list, tuple, dict)) for x in v)
        text = ", ".join(_cell(x) for x in v) if short else f"[{len(v)} values]"
    elif isinstance(v, dict):
        text = ", ".join(f"{k} {_cell(x)}" for k, x in v.items())
    else:
        text = str(v)
    return text.replace("|", "\\|").replace("\n", " ")


def _columns(rows) -> list:
    cols = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    return cols


def markdown_table(rows, columns=None, max_rows: int | None = None) -> str:
    """A Markdown table of a list of dicts (missing cells '–'); long tables keep their first and last rows."""
    rows = list(rows)
    columns = columns or _columns(rows)
    shown = rows
    if max_rows and len(rows) > max_rows:
        head = max_rows // 2
        shown = rows[:head] + [dict.fromkeys(columns[:1], f"… {len(rows) - max_rows} more rows …")]
        shown += rows[len(rows) - (max_rows - head):]
    out = ["| " + " | ".join(_cell(c) or " " for c in columns) + " |", "|" + " --- |" * len(columns)]
    out += ["| " + " | ".join(_cell(r.get(c)) if c in r else "–" for c in columns) + " |" for r in shown]
    return "\n".join(out)


def _as_rows(obj, label: str = "") -> list:
    """Rows from scores ({metric: value} → one row; {method: {metric: value}} → a row per method) or rows."""
    if obj is None:
        return []
    if isinstance(obj, dict) and obj.get("schema") == SCHEMA and "name" in obj:  # a record
        return _as_rows(obj.get("scores"), label) + _as_rows(obj.get("rows"), label)
    if isinstance(obj, dict):
        if obj and all(isinstance(v, dict) for v in obj.values()):
            return [{label: k, **v} for k, v in obj.items()]
        return [dict(obj)]
    if isinstance(obj, (list, tuple)) and all(isinstance(r, dict) for r in obj):
        return [dict(r) for r in obj]
    raise ValueError(f"live={obj!r} is not allowed: pass a dict of scores, a list of row dicts, or a record.")


def _merge(stored_rows: list, live_rows: list) -> list:
    """Stored rows with the live ones beside them: a first column 'run' (stored / this run); rows that share
    the label (the first column, e.g. the method) are placed together."""
    label = next(iter(stored_rows[0]), None) if stored_rows else None
    if label is not None and not all(isinstance(r.get(label), str) for r in stored_rows):
        label = None
    if label is not None:
        live_rows = [{label: r.pop(""), **r} if "" in r else r for r in live_rows]
    stored_rows = [{"run": "stored", **r} for r in stored_rows]
    live_rows = [{"run": "this run", **r} for r in live_rows]
    if label is None:
        return stored_rows + live_rows
    out, used = [], set()
    for i, r in enumerate(stored_rows):
        out.append(r)
        last = i + 1 == len(stored_rows) or stored_rows[i + 1].get(label) != r.get(label)
        if last:
            for j, lr in enumerate(live_rows):
                if j not in used and lr.get(label) == r.get(label):
                    out.append(lr)
                    used.add(j)
    return out + [lr for j, lr in enumerate(live_rows) if j not in used]


def _display(text: str) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:
        pass
    print(text + "\n")


def show_stored(week: str, names=None, live=None, max_rows: int = 14) -> dict | None:
    """Display the week's stored records as Markdown: each one's name, command, machine and date, its
    settings and notes, then its scores and rows. ``names`` (a name or a list) picks records. ``live`` (this
    run's scores dict, rows or record) is shown beside the stored rows of each record that shares a column
    with it, in one table with a 'run' column (stored / this run). Returns the stored data (None when nothing
    is stored; :func:`stored` says where it looked)."""
    data = stored(week)
    if data is None:
        return None
    records = data["records"]
    if names is not None:
        wanted = [names] if isinstance(names, str) else list(names)
        have = [r["name"] for r in records]
        missing = [n for n in wanted if n not in have]
        if missing:
            raise ValueError(f"names={missing!r} are not stored for {data['week']!r}: its records are "
                             f"{have!r}.")
        records = [r for r in records if r["name"] in wanted]
    live_rows = _as_rows(live) if live is not None else []
    if data.get("about"):
        _display(f"*{data['about']}*")
    for rec in records:
        parts = [f"**{rec['name']}**" + (f" — `{rec['notebook']}`" if rec.get("notebook") else "")]
        how = [f"`{rec['command']}`" if rec.get("command") else None, rec.get("machine"), rec.get("date")]
        parts.append(" — ".join(str(h) for h in how if h))
        knobs = {k: v for k, v in (rec.get("settings") or {}).items() if k != "name"}
        if knobs:
            parts.append("settings: " + "; ".join(f"{k} {_cell(v)}" for k, v in knobs.items()))
        if rec.get("notes"):
            parts.append(f"*{rec['notes']}*")
        tables = []
        if rec.get("scores"):
            tables.append(_as_rows(rec["scores"]))
        if rec.get("rows"):
            tables.append(_as_rows(rec["rows"]))
        if live_rows:
            live_cols = set(_columns(live_rows)) - {"", "run"}
            for i, t in enumerate(tables):
                if live_cols & set(_columns(t)[1:]):
                    tables[i] = _merge(t, [dict(r) for r in live_rows])
                    break
        text = "  \n".join(p for p in parts if p)
        for t in tables:
            text += "\n\n" + markdown_table(t, max_rows=max_rows)
        _display(text)
    return data


# ------------------------------------------------------------------------------------------------ emitting
def safe_name(text: str) -> str:
    """A file-name-safe stem: the notebook's base name without ``.ipynb``, other characters → '_'."""
    stem = Path(str(text)).name
    stem = stem[: -len(".ipynb")] if stem.endswith(".ipynb") else stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "record"


def emit(rec: dict) -> Path | None:
    """Print the record's ``[headline] …`` line (what ``make course`` collects) and, when ``SSL_RECORD_DIR``
    is set, write the record to ``<SSL_RECORD_DIR>/<notebook or name>.json``; returns that path or None."""
    rec = _check_record(rec)
    if rec.get("headline"):
        headline(rec["headline"])
    folder = os.environ.get("SSL_RECORD_DIR", "").strip()
    if not folder:
        return None
    path = Path(folder).expanduser() / f"{safe_name(rec.get('notebook') or rec['name'])}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# -------------------------------------------------------------------------------------------- released checkpoints
RELEASED = "checkpoints"        # src/sslstudy/results/checkpoints.json: the published full-mode checkpoints


def released() -> list[dict]:
    """The published full-mode checkpoints (``results/checkpoints.json``): one entry per checkpoint with ``name``
    (e.g. ``"simclr-cifar10"``), ``url`` (a release asset), ``sha256``, and ``record`` (the run record that
    ``python -m sslstudy train`` wrote beside it: settings, kNN, device). An empty list until one is published."""
    data = stored(RELEASED)
    return [] if data is None else list(data.get("checkpoints") or [])


def sha256_of(path) -> str:
    """The SHA-256 of a file (hex), read in 1 MiB blocks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_checkpoint(url: str, sha256: str, *, name: str | None = None, download: bool | None = None) -> Path:
    """The file at ``url`` (a release asset, or ``file://`` for a local copy) in the checkpoint folder's
    ``released/`` subfolder, downloaded once and checked against ``sha256``. Downloads only where the data may
    be downloaded (``SSL_DOWNLOAD=1`` or Colab, or ``download=True``); otherwise one sentence says how."""
    from . import data

    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"sha256={sha256!r} is not allowed: give the 64 hex digits of the file's SHA-256.")
    dest = config.checkpoint_dir() / "released" / (name or url.rstrip("/").rsplit("/", 1)[-1])
    if not (dest.is_file() and sha256_of(dest) == sha256):
        if not (url.startswith("file://") or data._download_allowed(download)):
            raise ValueError(f"The checkpoint {dest.name} is not in {dest.parent} and downloading is off: set "
                             f"SSL_DOWNLOAD=1 (or pass download=True) to fetch it from {url}.")
        import torch.hub

        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        torch.hub.download_url_to_file(url, str(tmp), progress=False)
        got = sha256_of(tmp)
        if got != sha256:
            tmp.unlink()
            raise ValueError(f"{url} has SHA-256 {got}, not the published {sha256}: the file was not kept.")
        os.replace(tmp, dest)
    return dest


def load_released(name: str, method=None, *, download: bool | None = None):
    """A published checkpoint by ``name`` (see :func:`released`): its state (the dict ``train.fit`` saves) and,
    when ``method`` (the same method built with the record's settings) is given, its weights loaded into it.
    Returns ``(state, record)``."""
    import torch

    entries = {e["name"]: e for e in released()}
    if name not in entries:
        raise ValueError(f"No published checkpoint is called {name!r}: the published ones are "
                         f"{', '.join(sorted(entries)) or 'none yet'}.")
    e = entries[name]
    state = torch.load(fetch_checkpoint(e["url"], e["sha256"], name=f"{name}.pt", download=download),
                       map_location="cpu", weights_only=False)
    if method is not None:
        method.load_state_dict(state["modules"]["method"])
    return state, e.get("record")
