"""The teaching conventions every course notebook follows (templates included): a presenter's route and slide
metadata, exercises with tested solutions, Korean beside English, the canonical questions, and no link to a
file that a user of the course does not have."""
import json
import re

import pytest

from sslstudy import exercises, nbtools, slides
from tests.conftest import ROOT

# Notebooks not yet moved to the v2 teaching skeleton (route, exercises, Korean headings, canonical questions):
# listed here, by name, so that the gap is visible and a new notebook can never join it silently.
NOT_YET_UPGRADED = set()
NOTEBOOKS = [nb for nb in nbtools.course_notebooks(ROOT) if nb.name not in NOT_YET_UPGRADED]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
FORBIDDEN = ("reference/methods.md", "reference/style.md", "../shared", "/work/", "/home/", "/root/",
             "resnet_cpu.py", "methods/py", "private exception")


def _cells(nb):
    return json.loads(nb.read_text(encoding="utf-8"))["cells"]


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_presenters_route_and_slide_metadata(nb):
    assert slides.problems(nb) == []


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_at_least_two_exercises_with_registered_checkers(nb):
    code = "\n".join(_src(c) for c in _cells(nb) if c["cell_type"] == "code")
    ids = re.findall(r"exercises\.check\(\s*[\"']([\w.]+)[\"']", code)
    assert len(set(ids)) >= 2, f"{nb.name}: fewer than two exercises ({ids})"
    assert code.count("answer = ...") >= 2, f"{nb.name}: the exercises must be blanks (`answer = ...`)"
    registry = exercises.load_all()
    assert [i for i in ids if i not in registry] == []


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_korean_beside_english_in_section_headings(nb):
    headings = [line for c in _cells(nb) if c["cell_type"] == "markdown"
                for line in _src(c).splitlines() if line.startswith("## ")]
    assert headings, f"{nb.name} has no section headings"
    assert [h for h in headings if not HANGUL.search(h)] == []


@pytest.mark.parametrize("nb", [n for n in NOTEBOOKS if n.parent.name.startswith("week")], ids=lambda p: p.name)
def test_questions_come_from_the_canonical_list(nb):
    code = "\n".join(_src(c) for c in _cells(nb) if c["cell_type"] == "code")
    assert "show_questions(" in code, f"{nb.name}: show the week's canonical questions with course.show_questions"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_link_to_a_file_outside_the_repository(nb):
    text = nb.read_text(encoding="utf-8")
    assert [f for f in FORBIDDEN if f in text] == []
    for c in _cells(nb):
        if c["cell_type"] != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", _src(c)):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (nb.parent / target.split("#")[0]).resolve()
            assert path.exists() and ROOT in path.parents, f"{nb.name}: link to {target}, not a file of the repository"


def test_the_not_yet_upgraded_list_only_names_existing_notebooks():
    names = {nb.name for nb in nbtools.course_notebooks(ROOT)}
    assert NOT_YET_UPGRADED <= names
