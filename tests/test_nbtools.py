"""nbtools: figures reach the executed copies, a failing notebook says why, the course table comes from run
records, and the export directives are strict about what they accept."""
import json
import os
import subprocess
import sys
import time

import nbformat
import papermill
import pytest
from papermill.execute import raise_for_execution_errors

from sslstudy import nbtools
from sslstudy.__main__ import main
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
REAL_EXECUTE = papermill.execute_notebook


def _notebook(path, *sources, params="mode = None\nseed = 0"):
    """A small notebook: a title, a parameters cell, then one code cell per source."""
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# probe"), p] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _fake_papermill(monkeypatch, *, fail_on=None, record=None, seen_env=None):
    """Replace papermill's execution (no kernel): papermill parameterises the notebook for real
    (prepare_only), a cell whose source starts with ``fail_on`` gets an error output, and papermill's own
    ``raise_for_execution_errors`` raises as it would after a real run. ``record`` is written where the
    kernel would write it (``SSL_RECORD_DIR``)."""
    def fake(inp, out, parameters=None, **kwargs):
        REAL_EXECUTE(inp, out, parameters=parameters, prepare_only=True, kernel_name="python3", progress_bar=False)
        if seen_env is not None:
            seen_env.update({k: os.environ.get(k) for k in ("MPLBACKEND", "SSL_RECORD_DIR")})
        nb = nbformat.read(out, as_version=4)
        time.sleep(0.05)
        for cell in nb.cells:
            if fail_on and cell.cell_type == "code" and cell.source.startswith(fail_on):
                cell.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                       traceback=["Traceback …", "ZeroDivisionError: division by zero"])]
        if record is not None:
            rec_dir = os.environ["SSL_RECORD_DIR"]
            with open(os.path.join(rec_dir, record["file"]), "w") as f:
                json.dump(record["body"], f)
        nbformat.write(nb, out)
        raise_for_execution_errors(nb, out)
        return nb
    monkeypatch.setattr(papermill, "execute_notebook", fake)


# ------------------------------------------------------------------------------------------------ figures
def test_executed_copy_keeps_figures_under_an_inherited_agg(tmp_path):
    """CI exports MPLBACKEND=Agg; `python -m sslstudy run` must still leave the figure in the executed copy."""
    out = tmp_path / "figure.executed.ipynb"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, "-m", "sslstudy", "run", str(FIXTURES / "figure.ipynb"), "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    outputs = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), outputs


def test_kernel_env_drops_agg_and_adds_the_record_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("SSL_RECORD_DIR", raising=False)
    seen = {}
    _fake_papermill(monkeypatch, seen_env=seen)
    nbtools.run_notebook(_notebook(tmp_path / "a.ipynb", "x = 1"), output=tmp_path / "out.ipynb", quiet=True,
                         env={"SSL_RECORD_DIR": str(tmp_path)})
    assert seen == {"MPLBACKEND": None, "SSL_RECORD_DIR": str(tmp_path)}
    assert os.environ["MPLBACKEND"] == "Agg" and "SSL_RECORD_DIR" not in os.environ  # restored afterwards
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # a deliberate choice is kept
    assert nbtools.kernel_env() == {}


def test_makefile_keeps_agg_for_the_tests_only():
    make = (ROOT / "Makefile").read_text()
    assert "export MPLBACKEND" not in make
    assert "MPLBACKEND=Agg $(PY) -m pytest tests $(NOTEBOOKS)" in make


# ------------------------------------------------------------------------------------------------ failures
def test_failure_names_the_cell_the_exception_and_the_time(monkeypatch, tmp_path):
    src = _notebook(tmp_path / "broken.ipynb", "x = 1", "1 / 0\ny = 2\nz = 3")
    _fake_papermill(monkeypatch, fail_on="1 / 0")
    with pytest.raises(nbtools.NotebookFailed) as info:
        nbtools.run_notebook(src, {"seed": 3}, output=tmp_path / "out.ipynb", quiet=True)
    f = info.value
    # cell 3 of the source notebook (papermill's own index is 4: it injected a parameters cell before it)
    assert f.cell_index == 3 and f.ename == "ZeroDivisionError" and f.evalue == "division by zero"
    assert 0 < f.seconds < 60
    assert "broken.ipynb failed after" in str(f) and "in cell 3: ZeroDivisionError: division by zero" in str(f)
    report = f.report()
    assert "  | 1 / 0" in report and "  | y = 2" in report and "ZeroDivisionError: division by zero" in report
    assert "nan" not in report and "out.ipynb" in report


def test_course_reports_a_failure_keeps_going_and_exits_non_zero(monkeypatch, tmp_path, capsys):
    bad = _notebook(tmp_path / "a_bad.ipynb", "1 / 0")
    good = _notebook(tmp_path / "b_good.ipynb", "from sslstudy.nbtools import headline\nheadline('fine')")
    _fake_papermill(monkeypatch, fail_on="1 / 0")
    rc = main(["course", "--notebooks", str(bad), str(good), "--out", str(tmp_path / "build")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAILED after" in out and "in cell 2" in out and "| 1 / 0" in out and "ZeroDivisionError" in out
    assert "nan" not in out
    summary = json.loads((tmp_path / "build" / "course_results.json").read_text())
    rows = {r["notebook"].split("/")[-1]: r for r in summary["notebooks"]}
    assert rows["a_bad.ipynb"]["status"] == "FAILED" and rows["a_bad.ipynb"]["failure"]["cell_index"] == 2
    assert rows["b_good.ipynb"]["status"] == "ok"   # the second notebook still ran
    md = (tmp_path / "build" / "course_results.md").read_text()
    assert "1 of 2 notebook(s) FAILED" in md and "| FAILED |" in md


# ------------------------------------------------------------------------------------------------ records
def test_course_table_comes_from_the_run_record(monkeypatch, tmp_path):
    nb = _notebook(tmp_path / "07_probe.ipynb", "print('[headline] from the outputs')")
    record = {"schema": 1, "name": "probe", "notebook": "07_probe.ipynb", "headline": "probe: kNN 0.912",
              "scores": {"knn": 0.9123, "linear": 0.95}}
    _fake_papermill(monkeypatch, record={"file": "07_probe.json", "body": record})
    rows = nbtools.run_course(notebooks=[str(nb)], build=tmp_path / "build")
    assert rows[0]["status"] == "ok" and rows[0]["headline"] == "probe: kNN 0.912"
    assert rows[0]["records"] == [record] and rows[0]["scores"] == "knn 0.912, linear 0.950"
    md = (tmp_path / "build" / "course_results.md").read_text()
    assert "| probe: kNN 0.912 | knn 0.912, linear 0.950 |" in md
    saved = json.loads((tmp_path / "build" / "course_results.json").read_text())
    assert saved["notebooks"][0]["records"][0]["scores"]["knn"] == 0.9123


def test_report_emit_writes_the_record_the_course_table_reads(monkeypatch, tmp_path, capsys):
    from sslstudy import report

    monkeypatch.setenv("SSL_RECORD_DIR", str(tmp_path))
    since = time.time()
    rec = report.record("probe", {"lr": 0.1}, scores={"knn": 0.9})
    rec.update(notebook="week07_x/07_probe.ipynb", headline="probe kNN 0.900")
    report.emit(rec)
    assert "[headline] probe kNN 0.900" in capsys.readouterr().out
    (got,) = nbtools.read_records(tmp_path, tmp_path / "07_probe.ipynb", since)
    assert got["headline"] == "probe kNN 0.900" and got["scores"] == {"knn": 0.9}


def test_read_records_falls_back_to_fresh_files_and_the_headline(tmp_path):
    nb = tmp_path / "09_x.ipynb"
    assert nbtools.read_records(tmp_path / "missing", nb) == []
    (tmp_path / "other.json").write_text(json.dumps([{"name": "a", "headline": "A", "notebook": "week/09_x.ipynb"},
                                                     {"name": "b", "headline": "B", "notebook": "elsewhere.ipynb"}]))
    assert [r["name"] for r in nbtools.read_records(tmp_path, nb, since=time.time() - 5)] == ["a"]
    assert nbtools.read_records(tmp_path, nb, since=time.time() + 60) == []   # a stale file is not this run's
    # without a record the table falls back to the [headline] line printed by nbtools.headline
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="noise\n[headline] kNN 0.5\n")]
    assert nbtools._find_headline({"cells": [cell]}) == "kNN 0.5"


# ------------------------------------------------------------------------------------------------ export
def _export_nb(tmp_path, name, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# x")] + [nbformat.v4.new_code_cell(s) for s in sources]
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    path = tmp_path / "notebooks" / name
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("mark", ["#|", "#| ", "# |", "# | ", "#|  "])
def test_export_accepts_every_spelling(tmp_path, monkeypatch, mark):
    monkeypatch.setattr(nbtools, "root", lambda: tmp_path)
    path = _export_nb(tmp_path, "01_toy.ipynb", f"{mark}default_exp toy", f"{mark}export\nimport math",
                      "#| export\ndef f(x):\n    return math.sqrt(x)")
    name, text = nbtools.exported_module(path)
    assert name == "toy" and "import math" in text and "def f(x)" in text and "export" not in text.split("\n", 2)[2]


@pytest.mark.parametrize("line, message", [
    ("#| exprot", r"notebooks/01_toy.ipynb, cell 1: unknown directive '#\| exprot'"),
    ("# | defualt_exp toy", r"notebooks/01_toy.ipynb, cell 1: unknown directive"),
    ("#| export now", r"cell 1: '#\| export now' is not allowed: '#\| export' takes no argument"),
    ("#| default_exp", r"cell 1: '#\| default_exp' does not name a module"),
    ("#| default_exp my-module", r"cell 1: '#\| default_exp my-module' does not name a module"),
])
def test_export_rejects_unknown_and_malformed_directives(tmp_path, monkeypatch, line, message):
    monkeypatch.setattr(nbtools, "root", lambda: tmp_path)
    path = _export_nb(tmp_path, "01_toy.ipynb", line + "\nx = 1", "#| default_exp toy", "#| export\ny = 2")
    with pytest.raises(ValueError, match=message):
        nbtools.exported_module(path)


def test_export_rejects_two_modules_in_one_notebook_and_one_module_in_two(tmp_path, monkeypatch):
    monkeypatch.setattr(nbtools, "root", lambda: tmp_path)
    two = _export_nb(tmp_path, "01_two.ipynb", "#| default_exp a", "#| export\nx = 1", "#|default_exp b")
    with pytest.raises(ValueError, match=r"01_two.ipynb names two modules \('a' in cell 1, 'b' in cell 3\)"):
        nbtools.exported_module(two)
    two.unlink()
    _export_nb(tmp_path, "01_first.ipynb", "#| default_exp toy", "#| export\nx = 1")
    _export_nb(tmp_path, "02_second.ipynb", "# | default_exp toy", "# | export\ny = 2")
    (tmp_path / "src" / "sslstudy" / "methods").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"Module 'toy' is claimed by two notebooks, notebooks/01_first.ipynb and "
                                         r"notebooks/02_second.ipynb"):
        nbtools.export_all(check=True, base=tmp_path)


def test_export_without_a_module_name_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(nbtools, "root", lambda: tmp_path)
    path = _export_nb(tmp_path, "01_toy.ipynb", "#|export\nx = 1")
    with pytest.raises(ValueError, match="marks cells '#\\| export' but has no '#\\| default_exp <module>' cell"):
        nbtools.exported_module(path)


def test_a_template_shows_export_cells_but_writes_no_module(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("#| default_exp mymethod"), nbformat.v4.new_code_cell("#| export\nX = 1")]
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "src" / "sslstudy" / "methods").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "notebooks" / "_template_code_analysis.ipynb")
    assert nbtools.exported_modules(tmp_path) == {}
    nb.cells.append(nbformat.v4.new_code_cell("#| exprot\nY = 2"))
    nbformat.write(nb, tmp_path / "notebooks" / "_template_code_analysis.ipynb")
    with pytest.raises(ValueError, match="exprot"):
        nbtools.exported_modules(tmp_path)
