"""Repository-wide pytest hooks: a per-file duration table at the end of the run (notebooks especially).

Durations are printed, never asserted: speed goals belong in `make bench`.
"""
from collections import defaultdict

_durations = defaultdict(float)
_failed = set()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    _durations[path] += report.duration
    if report.failed:
        _failed.add(path)


def pytest_terminal_summary(terminalreporter):
    notebooks = {k: v for k, v in _durations.items() if k.endswith(".ipynb")}
    tests = sum(v for k, v in _durations.items() if not k.endswith(".ipynb"))
    if not _durations:
        return
    tr = terminalreporter
    tr.section("durations per file (seconds)")
    if tests:
        tr.write_line(f"{tests:8.1f}  unit tests (tests/)")
    for path, secs in notebooks.items():
        tr.write_line(f"{secs:8.1f}  {path}{'  FAILED' if path in _failed else ''}")
    tr.write_line(f"{sum(_durations.values()):8.1f}  total")
