"""The course's shared text (sslstudy.course): one canonical questions list per week, shipped with the package and
equal to its README section, every question in English and Korean; one English–Korean glossary."""
import re

import pytest

from sslstudy import course
from tests.conftest import ROOT

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ITEM = re.compile(r"^(\d+)\. ", re.M)


def _items(markdown: str) -> list[tuple[int, str]]:
    """The numbered questions of a section: (number, text of the item up to the next one)."""
    starts = list(ITEM.finditer(markdown))
    return [(int(m.group(1)), markdown[m.start():(starts[k + 1].start() if k + 1 < len(starts) else len(markdown))])
            for k, m in enumerate(starts)]


def test_shipped_questions_equal_the_readme_sections():
    assert course.sync(check=True, base=ROOT) == [], "run: python -m sslstudy.course sync"


def test_weeks_with_questions_include_the_written_weeks():
    assert {"week01_dec", "week08_simclr"} <= set(course.weeks())


@pytest.mark.parametrize("week", course.weeks())
def test_every_question_is_in_english_then_korean(week):
    text = course.questions(week)
    assert text.startswith(course.SECTION_TITLE + "\n")
    items = _items(text)
    assert len(items) >= 5, f"{week}: only {len(items)} questions"
    assert [n for n, _ in items] == list(range(1, len(items) + 1)), f"{week}: questions are not numbered 1, 2, 3, …"
    for n, item in items:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", item.strip()) if p.strip()]
        assert len(paragraphs) == 2, f"{week} question {n}: expected an English paragraph, then a Korean one"
        english, korean = paragraphs
        assert not HANGUL.search(english) and re.search(r"[A-Za-z]{3}", english), f"{week} question {n}: English first"
        assert "?" in english, f"{week} question {n}: the English part asks no question"
        assert HANGUL.search(korean), f"{week} question {n}: the Korean version is missing"
        assert re.search(r"\[(paper walkthrough|code analysis)[^\]]*§\d", english), \
            f"{week} question {n}: name the notebook section in brackets, e.g. [code analysis §6]"


def test_questions_accept_a_number_and_reject_an_unknown_week():
    assert course.questions(1) == course.questions("week01") == course.questions("week01_dec")
    with pytest.raises(ValueError) as err:
        course.questions("week99_x")
    message = str(err.value)
    assert "week99_x" in message and "week01_dec" in message and "week08_simclr" in message
    assert message.count(". ") == 0 and message.endswith("."), "one sentence"


def test_glossary_table_has_forty_korean_rows():
    rows = course.glossary_rows()
    assert len(rows) >= 40
    assert [r["english"] for r in rows if not HANGUL.search(r["korean"]) or not HANGUL.search(r["meaning"])] == []
    assert [r["english"] for r in rows if not re.match(r"\d · ", r["week"])] == []
    english = [r["english"].lower() for r in rows]
    assert len(english) == len(set(english)), "a term appears twice"
    korean = {r["korean"] for r in rows}
    for term in ("대조 학습", "사전 학습", "의사 레이블", "자기 지도 학습", "데이터 증강", "온도", "투영 헤드", "모멘텀 인코더"):
        assert any(k.startswith(term) for k in korean), f"glossary lacks {term}"


def test_show_glossary_filters_by_english_or_korean(capsys):
    course.show_glossary(["contrastive", "의사 레이블"])
    out = capsys.readouterr().out
    assert "대조 학습" in out and "pseudo-label" in out and "codebook" not in out
    assert out.splitlines()[0].startswith("| English")
    course.show_glossary("no such term")
    assert "No glossary term matches" in capsys.readouterr().out
    with pytest.raises(ValueError):
        course.show_glossary([""])


def test_show_questions_prints_outside_ipython(capsys):
    course.show_questions("week08_simclr")
    assert capsys.readouterr().out.startswith(course.SECTION_TITLE)


def test_sync_writes_copies_and_skips_weeks_without_a_section(tmp_path):
    (tmp_path / "week01_x").mkdir()
    (tmp_path / "week01_x" / "README.md").write_text(
        "# W\n\n" + course.SECTION_TITLE + "\n1. Why?\n\n   왜?\n\n## Next\ntext\n", encoding="utf-8")
    (tmp_path / "week02_y").mkdir()
    (tmp_path / "week02_y" / "README.md").write_text("# W\nno questions yet\n", encoding="utf-8")
    assert course.sync(check=True, base=tmp_path) == ["week01_x"]
    assert course.sync(base=tmp_path) == ["week01_x"]
    shipped = tmp_path / "src" / "sslstudy" / "course" / "questions"
    assert sorted(p.name for p in shipped.iterdir()) == ["week01_x.md"]
    assert (shipped / "week01_x.md").read_text(encoding="utf-8") == course.SECTION_TITLE + "\n1. Why?\n\n   왜?\n"
    assert course.sync(check=True, base=tmp_path) == []
