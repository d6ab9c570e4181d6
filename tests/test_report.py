import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from sslstudy import config, report


def _settings(**knobs):
    cfg = config.Config(mode="fast", seed=2, device=torch.device("cpu"), threads=1)
    return cfg.settings("simclr", dataset="cifar10", lr=config.ff(2e-3, 1.0), **knobs)


def test_record_has_every_field_filled_from_the_environment(capsys):
    S = _settings(crop_scale=(0.08, 1.0))
    rec = report.record("simclr", S, scores={"kNN": 0.38, "linear": torch.tensor(0.49)},
                        wall_seconds=12.345, notebook="08_simclr_code_analysis", headline="SimCLR kNN 0.380",
                        command="make course")
    assert list(rec) == list(report.FIELDS)
    assert rec["schema"] == 1 and rec["settings"] == S.key() and rec["settings"]["crop_scale"] == [0.08, 1.0]
    assert rec["seed"] == 2 and rec["mode"] == "fast" and rec["wall_seconds"] == 12.3
    assert rec["threads"] == torch.get_num_threads() and rec["torch"] == torch.__version__
    assert rec["device"] in ("cpu", "cuda", "mps") and rec["date"].endswith(" UTC")
    assert rec["scores"] == {"kNN": 0.38, "linear": pytest.approx(0.49)} and rec["rows"] is None
    assert f"{os.cpu_count()} CPU cores" in rec["machine"]
    assert os.uname().nodename not in rec["machine"] and "/" not in rec["machine"]
    assert json.loads(json.dumps(rec)) == rec
    old = report.record("x", {"n": 3}, rows=[{"seed": 0, "acc": 0.5}], date="2026-11-28", threads=1,
                        mode="full")
    assert old["date"] == "2026-11-28" and old["threads"] == 1 and old["mode"] == "full"
    assert old["seed"] is None and old["settings"] == {"n": 3}


def test_record_bad_input_is_one_sentence():
    with pytest.raises(ValueError, match="record\\(\\) got hostname, which it does not know"):
        report.record("x", None, hostname="a")
    with pytest.raises(ValueError, match="rows=.* is not allowed: it must be a list of dicts"):
        report.record("x", None, rows={"a": 1})
    with pytest.raises(ValueError, match="settings=.* is not allowed"):
        report.record("x", "fast")
    with pytest.raises(ValueError, match=r"^scores\['net'\]=Linear.*is not allowed: it must be JSON-able"):
        report.record("x", None, scores={"net": torch.nn.Linear(1, 1)})
    with pytest.raises(ValueError, match="is not a run record"):
        report.emit({"headline": "no schema"})


def test_save_and_stored_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    recs = [report.record("a", _settings(), scores={"DEC": {"acc": 0.8, "nmi": 0.7}}),
            report.record("b", None, rows=[{"seed": 0, "kNN": 0.3}, {"seed": 1, "kNN": 0.31}])]
    path = report.save(recs, "week77_test", about="test")
    assert path == tmp_path / "src" / "sslstudy" / "results" / "week77_test.json"
    data = report.stored("week77_test")
    assert data == {"schema": 1, "week": "week77_test", "about": "test", "records": recs}
    assert report.stored(str(path)) == data
    other = report.save(recs[0], tmp_path / "elsewhere" / "w.json")
    assert report.stored(str(other))["records"] == recs[:1] and report.stored(str(other))["week"] == "w"
    with pytest.raises(ValueError, match="week='../x' is not allowed"):
        report.save(recs, "../x")


def test_stored_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    assert report.stored("week99_nothing") is None
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0
    assert out.startswith("No stored results for 'week99_nothing': looked in the checkout")
    assert "week99_nothing.json" in out and "installed package (sslstudy/results/week99_nothing.json)" in out
    monkeypatch.setattr(config, "REPO_ROOT", None)
    assert report.stored("week99_nothing") is None
    assert "a course checkout (none found)" in capsys.readouterr().out
    assert report.show_stored("week99_nothing") is None


def test_the_converted_weeks_are_stored(capsys):
    w1, w8 = report.stored("week01_dec"), report.stored("week08_simclr")
    names1 = [r["name"] for r in w1["records"]]
    assert [f"DEC full mode, seed {s}" for s in (0, 1, 2)] == names1[:3] and len(names1) >= 6
    assert {r["seed"] for r in w1["records"][:3]} == {0, 1, 2}
    assert w1["records"][0]["scores"]["DEC"]["acc"] == pytest.approx(0.8246428571428571)
    assert len(w8["records"]) >= 5 and sum(len(r["rows"]) for r in w8["records"][:5]) == 18
    for rec in w1["records"] + w8["records"]:
        assert list(rec) == list(report.FIELDS) and rec["command"] and rec["machine"] and rec["date"]
    text = json.dumps([w1, w8])
    assert "/work" not in text and "SSL_DATA_DIR=<your data folder>" in text


def test_show_stored_tables_with_live_beside(capsys):
    data = report.show_stored("week01_dec", names="DEC full mode, seeds 0-2: mean ± spread",
                              live={"DEC": {"acc": 0.62}, "k-means on pixels": {"acc": 0.51}})
    out = capsys.readouterr().out
    assert data["week"] == "week01_dec"
    assert "**DEC full mode, seeds 0-2: mean ± spread**" in out and "2026-11-28" in out
    assert "`SSL_THREADS=1 python -m sslstudy run" in out
    assert "| run | method | acc | nmi |" in out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| stored | DEC |"))
    assert lines[at + 1].startswith("| this run | DEC | 0.62 |")
    report.show_stored("week08_simclr", names=["Code analysis, fast mode, digits (scikit-learn, 1,442/355 "
                                                "images at 16x16)"], live=[{"seed": 7, "SimCLR h kNN": 0.9}])
    out = capsys.readouterr().out
    assert "| stored | 0 | 0.89 |" in out and "| this run | 7 | 0.9 |" in out
    with pytest.raises(ValueError, match=r"names=\['nope'\] are not stored for 'week08_simclr'"):
        report.show_stored("week08_simclr", names="nope")


def test_emit_prints_the_headline_and_writes_the_record(tmp_path, monkeypatch, capsys):
    rec = report.record("simclr", _settings(), scores={"kNN": 0.4}, notebook="wk/08_simclr x.ipynb",
                        headline="SimCLR kNN 0.400 vs random init 0.300")
    capsys.readouterr()
    monkeypatch.delenv("SSL_RECORD_DIR", raising=False)
    assert report.emit(rec) is None
    assert capsys.readouterr().out == "[headline] SimCLR kNN 0.400 vs random init 0.300\n"
    monkeypatch.setenv("SSL_RECORD_DIR", str(tmp_path / "records"))
    path = report.emit(rec)
    assert path == tmp_path / "records" / "08_simclr_x.json"
    assert json.loads(path.read_text()) == rec
    assert capsys.readouterr().out.startswith("[headline] SimCLR")
    from sslstudy import nbtools

    assert report.HEADLINE_PREFIX == nbtools.HEADLINE_PREFIX


def test_stored_from_an_installed_copy_outside_the_checkout(tmp_path):
    """pip-install the package (a wheel build) into a folder and read the packaged records from there."""
    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src_copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(root / name, src / name)
    shutil.copytree(root / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(src)], check=True, capture_output=True, cwd=tmp_path)
    wheel = next(wheels.glob("sslstudy-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"sslstudy/results/week01_dec.json", "sslstudy/results/week08_simclr.json"} <= set(names)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, cwd=tmp_path)
    code = ("import sslstudy, json; from sslstudy import config, report; "
            "d = report.stored('week08_simclr'); "
            "names = [r['name'] for r in d['records']]; "
            "print(json.dumps([sslstudy.__file__, config.REPO_ROOT is None, names]))")
    env = {**os.environ, "PYTHONPATH": str(target), "SSL_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         cwd=tmp_path, env=env).stdout
    file, no_checkout, names = json.loads(out.strip().splitlines()[-1])
    assert file.startswith(str(target)) and no_checkout
    assert names == [r["name"] for r in report.stored("week08_simclr")["records"]]
