"""The course website: built from executed copies, and its checker catches a missing page, figure or link."""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
from sslstudy import nbtools, site  # noqa: E402

NB = "week01_dec/01_dec_paper_walkthrough.ipynb"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2).decode()   # a recognisable payload


def _executed_copy(tmp_path: Path) -> Path:
    """The notebook with one figure output added to its first code cell, as an executed copy would hold it."""
    nb = json.loads((nbtools.root() / NB).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": PNG, "text/plain": "fig"}}]
    dest = tmp_path / "executed" / NB
    dest.parent.mkdir(parents=True)
    dest.write_text(json.dumps(nb), encoding="utf-8")
    return dest


def test_current_means_the_same_cells(tmp_path):
    copy = _executed_copy(tmp_path)
    assert site.is_current(nbtools.root() / NB, copy)               # outputs do not matter
    nb = json.loads(copy.read_text())
    nb["cells"][-1]["source"] = ["changed"]
    copy.write_text(json.dumps(nb))
    assert not site.is_current(nbtools.root() / NB, copy)
    with pytest.raises(ValueError, match="no current executed copy"):
        site.executed_copies([nbtools.root() / NB], tmp_path / "executed", execute=False)


def test_site_is_built_and_checked_and_the_checker_finds_problems(tmp_path):
    _executed_copy(tmp_path)
    out = site.build([NB], tmp_path / "executed", tmp_path / "out", execute=False)
    page = out / "week01_dec" / "01_dec_paper_walkthrough" / "index.html"
    assert page.is_file() and PNG[:64] in page.read_text()
    assert (out / "index.html").is_file() and (out / "ko" / "index.html").is_file()
    assert (out / "week01_dec" / "index.html").is_file()                 # the week's README is its landing page
    home = (out / "index.html").read_text()
    assert f"https://github.com/{nbtools.REPO_SLUG}/" in home            # files outside the site point to GitHub
    copies = {nbtools.root() / NB: tmp_path / "executed" / NB}
    assert site.check(out, copies) == []
    page.write_text(page.read_text().replace(PNG[:64], "") + '<a href="../nowhere/">x</a>')
    problems = site.check(out, copies)
    assert any("lacks 1 of the figures" in p for p in problems) and any("nowhere" in p for p in problems)
    shutil.rmtree(page.parent)
    assert any("has no page" in p for p in site.check(out, copies))


def test_readme_links_become_pages_or_github():
    in_site = {"README.md", "week01_dec/README.md", NB}
    text = "[w1](week01_dec/) [nb](week01_dec/01_dec_paper_walkthrough.ipynb) [lic](LICENSE) [x](https://a.b) [h](#top)"
    out = site._rewrite_links(text, "", in_site)
    assert "(week01_dec/index.md)" in out and "(week01_dec/01_dec_paper_walkthrough.ipynb)" in out
    assert f"(https://github.com/{nbtools.REPO_SLUG}/blob/" in out and "(https://a.b)" in out and "(#top)" in out
    back = site._rewrite_links("[home](../README.md) [src](../src/sslstudy/site.py)", "week01_dec", in_site)
    assert "(../index.md)" in back and "/blob/" in back
