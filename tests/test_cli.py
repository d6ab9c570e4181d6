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
    assert lines[0] == "notebooks/00_start_here.ipynb" and lines[-1] == "notebooks/_template.ipynb"


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
