"""Every exercise's checker accepts its solution, rejects a wrong answer and reports a blank as not attempted.

Checkers: ``sslstudy.exercises.<module>``; solutions: ``solutions/<module>.py`` (``CASES``), out of the learner's view.
"""
import importlib.util

import pytest

from sslstudy import exercises
from tests.conftest import ROOT

SOLUTION_FILES = sorted((ROOT / "solutions").glob("*.py"))


def _cases() -> dict:
    cases = {}
    for path in SOLUTION_FILES:
        spec = importlib.util.spec_from_file_location(f"solutions_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for id_, case in mod.CASES.items():
            assert id_.startswith(path.stem + "."), f"{path.name}: case {id_!r} belongs in solutions/{id_.split('.')[0]}.py"
            cases[id_] = case
    return cases


CASES = _cases()
REGISTERED = sorted(exercises.load_all())


def _answer(spec, context):
    return spec(**context) if callable(spec) else spec


def test_every_exercise_has_a_solution_and_every_solution_an_exercise():
    assert set(REGISTERED) == set(CASES), (sorted(set(REGISTERED) - set(CASES)), sorted(set(CASES) - set(REGISTERED)))


@pytest.mark.parametrize("id_", REGISTERED)
def test_checker_accepts_solution_rejects_wrong_answer(id_, capsys):
    case = CASES[id_]
    context = case.get("context", {})
    context = context() if callable(context) else context
    assert exercises.check(id_, ..., **context) == exercises.NOT_ATTEMPTED
    assert exercises.check(id_, _answer(case["solution"], context), **context) == exercises.CORRECT
    assert exercises.check(id_, _answer(case["wrong"], context), **context) == exercises.NOT_YET
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "correct ✓" in out and "not yet —" in out


def test_unknown_exercise_is_one_clear_sentence():
    with pytest.raises(KeyError, match="does not exist; the known exercises are"):
        exercises.check("week99_none.x", 1)


def test_wrong_kind_of_answer_gets_a_hint_not_a_crash(tmp_path):
    @exercises.exercise("test_exercises.double", hint="multiply by two")
    def _double(answer, x):
        return answer == 2 * x

    try:
        assert exercises.verdict("test_exercises.double", 4, x=2)[0] == exercises.CORRECT
        status, msg = exercises.verdict("test_exercises.double", object(), x=[1])
        assert status == exercises.NOT_YET
    finally:
        exercises.REGISTRY.pop("test_exercises.double", None)
