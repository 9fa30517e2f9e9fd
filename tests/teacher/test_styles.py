"""Styles as data: the six built-ins, user files that extend or replace them, clear errors."""

from __future__ import annotations

import pytest
from sum_task import SumTask, make_questions

from qrdistill.records import Question
from qrdistill.teacher.styles import PAPER_STYLES, StyleError, load_styles, render_messages, render_prompt, select_styles


def test_the_six_paper_styles_wrap_the_task_prompt_and_end_with_its_cue() -> None:
    task, question = SumTask(), make_questions(3)[2]
    styles = load_styles()
    assert set(PAPER_STYLES) <= set(styles)
    prompts = {name: render_prompt(styles[name], task, question) for name in PAPER_STYLES}
    for name, prompt in prompts.items():
        assert prompt.startswith(task.instruction), name
        assert question.question in prompt, name
        assert prompt.endswith(task.answer_cue), name
    assert len(set(prompts.values())) == len(PAPER_STYLES)
    assert "Python" in prompts["program"] and "step by step" in prompts["cot"]
    assert "verify" in prompts["backward"] and "facts" in prompts["fact"]


def test_multiple_choice_options_reach_the_prompt() -> None:
    question = Question(id="q", task="sums", question="Pick one.", gold="B", choices=["red", "blue"], context="A table.")
    prompt = render_prompt(load_styles()["tot"], SumTask(), question)
    assert "(A) red\n(B) blue" in prompt and prompt.index("A table.") < prompt.index("Pick one.")


def test_user_file_adds_and_replaces_styles(tmp_path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "- name: cot\n  template: 'CUSTOM {{ body }} {{ answer_cue }}'\n"
        "- name: socratic\n  system: You ask yourself questions.\n  template: 'Ask sub-questions. {{ prompt }}'\n"
    )
    styles = load_styles(tmp_path)
    task, question = SumTask(), make_questions(1)[0]
    assert render_prompt(styles["cot"], task, question) == f"CUSTOM {question.question} {task.answer_cue}"
    messages = render_messages(styles["socratic"], task, question)
    assert messages[0] == {"role": "system", "content": "You ask yourself questions."}
    assert messages[1]["role"] == "user" and messages[1]["content"].endswith(task.prompt(question))
    assert [s.name for s in select_styles(styles, ["socratic", "vanilla"])] == ["socratic", "vanilla"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n", r"bad\.yaml: field 'template'"),
        ("name: x\ntemplate: '{{ prompt }}'\ncolour: red\n", r"unknown field\(s\) \['colour'\]"),
        ("name: x\ntemplate: '{% if %}'\n", r"bad\.yaml: style 'x': template line 1"),
        ("name: [x\n", r"bad\.yaml: not valid YAML"),
    ],
)
def test_bad_style_files_name_the_file_and_field(tmp_path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(StyleError, match=message):
        load_styles(tmp_path / "bad.yaml")


def test_unknown_variable_and_unknown_style_are_explained(tmp_path) -> None:
    (tmp_path / "typo.yaml").write_text("name: typo\ntemplate: '{{ promt }}'\n")
    styles = load_styles(tmp_path / "typo.yaml")
    with pytest.raises(StyleError, match=r"typo\.yaml: style 'typo': 'promt' is undefined; available variables: .*body"):
        render_prompt(styles["typo"], SumTask(), make_questions(1)[0])
    with pytest.raises(StyleError, match=r"unknown style\(s\) \['nope'\]; known: .*vanilla"):
        select_styles(styles, ["cot", "nope"])
    with pytest.raises(StyleError, match="no such style file"):
        load_styles(tmp_path / "absent.yaml")
