"""The course website (``make site`` / ``python -m sslstudy site``): every notebook executed and readable
without running it, in English with the Korean README as a language switch.

Generator: **MkDocs + Material + mkdocs-jupyter** (pinned in the lock). Measured on the course's 2-core CPU
(2026-12-01, other jobs running, so CPU seconds rather than wall time), the same pages (the README, one week's
README and its executed code-analysis notebook), both offline: MkDocs-Material 7.0 s of CPU and 4.5 MB of site;
Jupyter Book 1 (Sphinx + MyST-NB) 4.0 s and 8.4 MB. Build time is small either way (seconds per notebook); the
pages a learner downloads are half the size with MkDocs, its theme is actively released, and Jupyter Book 1 is in
maintenance since Jupyter Book 2 (mystmd), which needs Node at build time. What a page loads when viewed: the
theme's own scripts and styles (served with the site; ``font: false``, so no Google Fonts), and only on notebook
pages the MathJax and mermaid scripts that mkdocs-jupyter's template takes from cdnjs (equations render once they
load) and the Colab badge image.

Build steps (:func:`build`):

1. the notebooks: every course notebook (or ``notebooks=`` globs); each one's executed copy is taken from
   ``executed`` (``make course`` writes ``build/<same path>``) when it is **current** (its cells' sources equal the
   notebook's, parameters cell aside), else it is executed in fast mode (``execute=True``) or the build stops with
   one sentence (``execute=False``);
2. a MkDocs source tree in ``out/src``: the README as the home page (``index.md``), ``README.ko.md`` as
   ``ko.md`` (the language switch), each week's README as its landing page, the executed notebooks beside them;
   links to other files of the repository point to GitHub at ``REPO_SLUG``@``GIT_REF``;
3. ``mkdocs build`` into ``out/site``;
4. :func:`check`: every notebook has a page, every internal link of every page resolves, and every figure of each
   executed notebook appears as an image on its page.
"""
from __future__ import annotations

import fnmatch
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import GIT_REF, REPO_SLUG, nbtools

LINK_RE = re.compile(r"(\]\()([^)\s]+)(\))")


# ------------------------------------------------------------------------------------------ executed copies
def _sources(nb: dict) -> list[tuple[str, str]]:
    """The cells that define a notebook's content: (type, source), without the injected parameters cell."""
    out = []
    for c in nb["cells"]:
        tags = c.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        out.append((c["cell_type"], src))
    return out


def is_current(source: Path, executed: Path) -> bool:
    """True when ``executed`` exists and holds exactly ``source``'s cells (so its outputs belong to them)."""
    if not executed.is_file():
        return False
    try:
        return _sources(nbtools.read_nb(executed)) == _sources(nbtools.read_nb(source))
    except (json.JSONDecodeError, KeyError):
        return False


def executed_copies(notebooks: list[Path], executed: Path, execute: bool = True) -> dict[Path, Path]:
    """Notebook → its current executed copy under ``executed`` (run in fast mode where missing or stale)."""
    root, out = nbtools.root(), {}
    for nb in notebooks:
        copy = executed / nb.relative_to(root)
        if not is_current(nb, copy):
            if not execute:
                raise ValueError(f"{nb.relative_to(root)} has no current executed copy in {executed}: run "
                                 f"`make course` (or leave out --no-execute) first.")
            nbtools.run_notebook(nb, {"mode": "fast"}, copy, quiet=True)
        out[nb] = copy
    return out


# ------------------------------------------------------------------------------------------ the source tree
def _github(path: str, ref: str = GIT_REF, slug: str = REPO_SLUG) -> str:
    kind = "tree" if path.endswith("/") or (nbtools.root() / path).is_dir() else "blob"
    return f"https://github.com/{slug}/{kind}/{ref}/{path.rstrip('/')}"


def _rewrite_links(text: str, page_dir: str, in_site: set[str]) -> str:
    """Relative links of a README, as seen from ``page_dir`` (repository-relative): to a page of the site when
    the target is one (a folder with a README → its ``index.md``), else to the file on GitHub."""
    def fix(m):
        target = m.group(2)
        if re.match(r"^[a-z]+:|^#|^/", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        full = posixpath.normpath(posixpath.join(page_dir, path))               # a/./b, a/../b
        full = "" if full == "." else full
        if full + "/README.md" in in_site or (full == "" and "README.md" in in_site):
            new = (full + "/index.md") if full else "index.md"
        elif full in in_site:
            new = full.replace("README.ko.md", "ko.md").replace("README.md", "index.md")
        else:
            return f"{m.group(1)}{_github(full + ('/' if target.endswith('/') else ''))}" \
                   f"{'#' + anchor if anchor else ''}{m.group(3)}"
        rel = posixpath.relpath(new, page_dir or ".")
        return f"{m.group(1)}{rel}{'#' + anchor if anchor else ''}{m.group(3)}"

    return LINK_RE.sub(fix, text)


def _title(nb: dict, fallback: str) -> str:
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            first = "".join(c["source"]).strip().splitlines()[0] if "".join(c["source"]).strip() else ""
            if first.startswith("# "):
                return first[2:].split(" · ")[0].strip()[:60]
    return fallback


def write_sources(copies: dict[Path, Path], src: Path) -> dict:
    """The MkDocs tree and ``mkdocs.yml`` under ``src``; returns the nav."""
    root = nbtools.root()
    if src.exists():
        shutil.rmtree(src)
    docs = src / "docs"
    docs.mkdir(parents=True)
    weeks = sorted({nb.relative_to(root).parts[0] for nb in copies if nb.relative_to(root).parts[0].startswith("week")})
    readmes = {"README.md": "index.md", "README.ko.md": "ko.md", **{f"{w}/README.md": f"{w}/index.md" for w in weeks}}
    in_site = set(readmes) | {nb.relative_to(root).as_posix() for nb in copies}
    for rel, page in readmes.items():
        text = (root / rel).read_text(encoding="utf-8")
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        (docs / page).write_text(_rewrite_links(text, str(Path(rel).parent) if "/" in rel else "", in_site),
                                 encoding="utf-8")
    nav = [{"Home": "index.md"}, {"한국어": "ko.md"}]
    groups: dict[str, list] = {}
    for nb, copy in copies.items():
        rel = nb.relative_to(root)
        dest = docs / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(copy, dest)
        group = rel.parts[0]
        kind = next((t for k, t in (("_paper_walkthrough", "Paper walkthrough"), ("_code_analysis", "Code analysis"))
                     if rel.stem.endswith(k) and group != "notebooks"), None)
        groups.setdefault(group, []).append({kind or _title(nbtools.read_nb(copy), rel.stem): rel.as_posix()})
    for group, pages in groups.items():
        if group == "notebooks":
            nav.append({"Start here and templates": pages})
        else:
            head = (root / group / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
            label = " · ".join(head.split(" · ")[:2]).split(" — ")[0]         # "Week 3 · DeepCluster"
            nav.append({label: [{"Overview": f"{group}/index.md"}, *pages]})
    config = {
        "site_name": "sslstudy — reading self-supervised learning backwards, part 1",
        "repo_url": f"https://github.com/{REPO_SLUG}", "edit_uri": "",
        "docs_dir": "docs", "use_directory_urls": True,
        "theme": {"name": "material", "font": False,
                  "features": ["navigation.sections", "navigation.top", "search.highlight", "content.code.copy"]},
        "plugins": ["search", {"mkdocs-jupyter": {"execute": False, "include_source": True,
                                                  "ignore_h1_titles": True}}],
        "markdown_extensions": ["tables", "toc", "admonition", "pymdownx.superfences"],
        "nav": nav,
    }
    (src / "mkdocs.yml").write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")  # YAML ⊃ JSON
    return nav


# ------------------------------------------------------------------------------------------ build and check
def _figures(nb: dict) -> list[str]:
    """The first 64 base64 characters of every PNG/JPEG output of an executed notebook."""
    out = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                data = o.get("data", {}).get(mime)
                if data:
                    out.append(("".join(data) if isinstance(data, list) else data).strip()[:64])
    return out


def check(site: Path, copies: dict[Path, Path]) -> list[str]:
    """Problems of a built site, one sentence each: a notebook without a page, an internal link that resolves to
    nothing, a figure of an executed notebook missing from its page."""
    root, problems = nbtools.root(), []
    for nb, copy in copies.items():
        page = site / nb.relative_to(root).with_suffix("") / "index.html"
        if not page.is_file():
            problems.append(f"{nb.relative_to(root)} has no page (expected {page.relative_to(site)}).")
            continue
        text = page.read_text(encoding="utf-8")
        missing = [f for f in _figures(nbtools.read_nb(copy)) if f not in text]
        if missing:
            problems.append(f"{page.relative_to(site)} lacks {len(missing)} of the figures of {copy.name}.")
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for href in re.findall(r'href="([^"#?]+)(?:[#?][^"]*)?"', text):
            href = html.unescape(href)
            if re.match(r"^[a-z]+:|^//", href) or href.startswith("/"):
                continue
            target = (page.parent / href).resolve()
            if not (target.is_file() or (target / "index.html").is_file()):
                problems.append(f"{page.relative_to(site)} links to {href}, which is not in the site.")
    return problems


def build(notebooks=None, executed: Path | None = None, out: Path | None = None, execute: bool = True) -> Path:
    """Build the site into ``out/site`` (default ``build/site``) and check it; returns the site folder. A problem
    raises ``ValueError`` with one sentence per problem."""
    root = nbtools.root()
    nbs = nbtools.select_notebooks(notebooks) if notebooks else nbtools.course_notebooks()
    nbs = [nb for nb in nbs if not fnmatch.fnmatch(nb.name, "*.executed.ipynb")]
    executed = Path(executed) if executed else root / "build"
    out = Path(out) if out else root / "build" / "site"
    copies = executed_copies(nbs, executed, execute)
    write_sources(copies, out / "src")
    site = out / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "-f", str((out / "src" / "mkdocs.yml").resolve()),
                           "-d", str(site.resolve())], capture_output=True, text=True, cwd=str(out / "src"),
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})       # mkdocs-jupyter caches under cwd
    if proc.returncode:
        raise ValueError(f"mkdocs build failed: {proc.stderr.strip()[-2000:]}")
    problems = check(site, copies)
    if problems:
        raise ValueError(f"The site in {site} has {len(problems)} problem(s):\n" + "\n".join(problems))
    return site


# ------------------------------------------------------------------------------------------ presenter slides
VENDORED = {   # npm package → (version, sha512 of its tarball): what the slides load from beside them, no CDN
    "reveal.js": ("4.0.2", "LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONFWMAw+8R/QUeaScCLCLrBVHDfFIEiw=="),
    "requirejs": ("2.1.10", "4JqdTihK3kOnT387LxCHuJZ/9QsKg2EIl7LmaW35PIyM4LwCI2jwyy4fy6pbY/ZZH2JoY/QEcb5PzULFPP6gcQ=="),
}   # reveal.js 4.0.2 and require.js 2.1.10: the versions nbconvert's reveal template is written for
REQUIRE_CDN = "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"


def vendor(package: str, dest: Path | None = None) -> Path:
    """The npm ``package`` at its pinned version unpacked into ``dest`` (default ``build/vendor/<package>``) from
    its tarball (``npm pack``, checked against the pinned sha512), once."""
    import base64
    import hashlib
    import tarfile
    import tempfile

    version, sha512 = VENDORED[package]
    dest = Path(dest) if dest else nbtools.root() / "build" / "vendor" / package
    if (dest / "package.json").is_file():
        return dest
    if shutil.which("npm") is None:
        raise ValueError(f"npm is not installed: the slides need {package} {version} from its npm package (install "
                         f"Node.js, or unpack {package}-{version}.tgz's package/ into {dest}).")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", tmp],
                              capture_output=True, text=True)
        tgz = Path(tmp) / f"{package}-{version}.tgz"
        if proc.returncode or not tgz.is_file():
            raise ValueError(f"npm pack {package}@{version} failed: {proc.stderr.strip()[-500:]}")
        digest = base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
        if digest != sha512:
            raise ValueError(f"{package}-{version}.tgz has sha512 {digest}, not the pinned {sha512}.")
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(tmp) / "package", dest)
    return dest


def slides(week: str, executed: Path | None = None, out: Path | None = None, execute: bool = True) -> list[Path]:
    """A reveal.js deck per notebook of ``week`` (nbconvert's slides exporter on the executed copy: the
    presenter's route and the slide types come from the notebook's metadata), written to
    ``out/<week>/<notebook>.slides.html`` (default ``build/slides``) beside copies of reveal.js and require.js,
    so a deck runs offline; equations render when MathJax can be fetched (the template loads it from cdnjs)."""
    from nbconvert import SlidesExporter

    root = nbtools.root()
    nbs = [nb for nb in nbtools.course_notebooks() if nb.relative_to(root).parts[0] == week]
    if not nbs:
        weeks = sorted({nb.relative_to(root).parts[0] for nb in nbtools.course_notebooks()})
        raise ValueError(f"WEEK={week!r} has no notebooks: use one of {', '.join(weeks)}.")
    vendored = {name: vendor(name) for name in VENDORED}
    copies = executed_copies(nbs, Path(executed) if executed else root / "build", execute)
    folder = (Path(out) if out else root / "build" / "slides") / week
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in vendored.items():
        if not (folder / name).exists():
            shutil.copytree(path, folder / name)
    exporter = SlidesExporter(reveal_url_prefix="reveal.js", reveal_theme="simple", reveal_scroll=True)
    written = []
    for nb, copy in copies.items():
        body, _ = exporter.from_filename(str(copy))
        body = body.replace(REQUIRE_CDN, "requirejs/require.js")
        if "unpkg.com/reveal" in body or REQUIRE_CDN in body:
            raise ValueError(f"{nb.name}: the slides still load reveal.js or require.js from a CDN.")
        path = folder / f"{nb.stem}.slides.html"
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return written
