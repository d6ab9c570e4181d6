import subprocess
import sys

import nbformat
import pytest

from sslstudy import nbtools
from tests.conftest import ROOT


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "sslstudy", *args], capture_output=True, text=True, cwd=ROOT, env=env)


def test_data_command_lists_every_dataset():
    out = _cli("data")
    assert out.returncode == 0
    for name in ("mnist", "fashion_mnist", "cifar10", "digits"):
        assert name in out.stdout


def test_course_list_starts_with_start_here():
    out = _cli("course", "--list")
    assert out.returncode == 0
    lines = out.stdout.split()
    assert lines[0] == "notebooks/00_start_here.ipynb" and lines[-1].startswith("notebooks/_template")


def test_course_selects_notebooks_by_glob():
    out = _cli("course", "--list", "--notebooks", "notebooks/_template*.ipynb", "notebooks/00_*.ipynb")
    assert out.returncode == 0
    lines = out.stdout.split()   # course order, whatever the order of the patterns
    assert lines[0] == "notebooks/00_start_here.ipynb" and len(lines) >= 2
    assert all(n.startswith("notebooks/_template") for n in lines[1:])
    bad = _cli("course", "--list", "--notebooks", "notebooks/zz_*.ipynb")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--notebooks 'notebooks/zz_*.ipynb' matches no notebook" in bad.stderr


def test_run_prints_the_failing_cell_and_exits_non_zero(monkeypatch, tmp_path, capsys):
    from sslstudy.__main__ import main
    from tests.test_nbtools import _fake_papermill, _notebook

    src = _notebook(tmp_path / "broken.ipynb", "1 / 0")
    _fake_papermill(monkeypatch, fail_on="1 / 0")
    assert main(["run", str(src), "-o", str(tmp_path / "out.ipynb")]) == 1
    err = capsys.readouterr().err
    assert "FAILED after" in err and "in cell 2" in err and "ZeroDivisionError: division by zero" in err


def test_ci_runs_the_offline_default_after_the_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("\nmake test ") < ci.index("\nmake course-offline ") < ci.index('echo "total:')
    make = (ROOT / "Makefile").read_text()
    recipe = make[make.index("\ncourse-offline:"):]
    recipe = recipe[:recipe.index("\n\n")]
    for needed in ("-u SSL_STRICT_DATA", "-u SSL_DOWNLOAD", 'SSL_DATA_DIR="$$tmp/data"', 'XDG_CACHE_HOME="$$tmp/cache"',
                   'SSL_CHECKPOINT_DIR="$$tmp/checkpoints"', "$(OFFLINE_NOTEBOOKS)", "FALLING BACK TO"):
        assert needed in recipe, needed
    assert "OFFLINE_NOTEBOOKS ?= notebooks/00_*.ipynb notebooks/_template*.ipynb" in make


def test_every_tool_the_makefile_calls_is_locked():
    locked = {line.split("==")[0].strip().lower() for line in (ROOT / "requirements-lock.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    make = (ROOT / "Makefile").read_text()
    calls = {"pytest": "-m pytest", "nbval": "--nbval", "ruff": "bin/ruff", "jupyterlab": "jupyter lab",
             "ipykernel": "-m ipykernel", "papermill": "-m sslstudy course"}
    for package, call in calls.items():
        assert call in make and package in locked, package
    assert "pip install --quiet \"jupyterlab" not in make   # make lab installs nothing at run time


def test_unknown_week_is_one_sentence():
    with pytest.raises(ValueError, match="WEEK='week99_nope' matches no notebook; use one of"):
        nbtools.run_course("week99_nope")


def test_parse_params():
    assert nbtools.parse_params([("mode", "full"), ("seed", "3"), ("lr", "0.1"), ("x", "null")]) == \
        {"mode": "full", "seed": 3, "lr": 0.1, "x": None}
    # Python spellings work too, so `-p run_ablations False` is not the (truthy) string "False"
    assert nbtools.parse_params([("a", "False"), ("b", "True"), ("c", "None"), ("d", "/tmp/r.json"), ("e", "fashion_mnist")]) == \
        {"a": False, "b": True, "c": None, "d": "/tmp/r.json", "e": "fashion_mnist"}


def test_run_injects_parameters_and_reads_the_headline(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("mode = None\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "from sslstudy.nbtools import headline\nheadline(f'mode={mode} seed={seed}')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "probe.ipynb"
    nbformat.write(nb, src)
    out, secs, head = nbtools.run_notebook(src, {"mode": "full", "seed": 7}, output=tmp_path / "out.ipynb", quiet=True)
    assert head == "mode=full seed=7" and out.exists() and secs > 0
