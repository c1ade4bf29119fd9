"""The Learn page, driven through Streamlit's AppTest: every lesson renders, moves, and links."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from augment_core import lessons
from augment_core.transforms.samples import load_sample

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def open_lesson(key: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["lesson"] = key
    at.switch_page("pages/learn.py")
    return at.run()


def charts(at: AppTest) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def first_control(at: AppTest, lesson: lessons.Lesson):
    control = lesson.controls[0]
    widgets = at.slider if control.kind == "slider" else at.select_slider if control.kind == "steps" else at.selectbox
    return control, next(w for w in widgets if w.label == control.label)


@pytest.mark.parametrize("key", lessons.list_lessons())
def test_each_lesson_renders_its_slider_changes_its_figure_and_it_links_to_the_right_page(key):
    lesson = lessons.get_lesson(key)
    at = open_lesson(key)
    assert not at.exception, at.exception
    assert at.subheader[0].value == f"{lesson.number}. {lesson.title}"
    before = charts(at)
    assert before, "a live figure"

    control, widget = first_control(at, lesson)
    value = (control.low if control.default == control.high else control.high) if control.kind == "slider" else \
        next(o for o in control.options if o != control.default)
    widget.set_value(value).run()
    assert not at.exception, at.exception
    assert charts(at) != before, "moving the first control changes the figure"

    images = [load_sample(s) for s in lesson.default_samples]
    expected = lessons.build_lesson(key, images, {control.name: value}, samples=lesson.default_samples).links
    drawn = {(p.proto.page, p.proto.label): dict(parse_qsl(p.proto.query_string)) for p in at.get("page_link")}
    for link in expected:
        assert (ROOT / link.page).is_file(), link.page
        assert drawn[(Path(link.page).stem, link.label)] == link.query_params


def test_rotation_link_opens_the_playground_preconfigured():
    link = lessons.build_lesson("geometry", [load_sample("Labelled grid")], {"theta": 17.0}, samples=("Labelled grid",)).links[0]
    assert link.page == "pages/playground.py"
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(link.query_params)
    at.run()
    assert not at.exception
    assert next(s for s in at.selectbox if s.label == "Transform").value == "Rotate"
    assert next(s for s in at.slider if s.label == "Limit").value == (17, 17)
    assert at.multiselect[0].value == ["Labelled grid"]


def test_lesson_selector_switches_lessons():
    at = open_lesson("geometry")
    at.button_group(key="learn:lesson").set_value("evaluation").run()
    assert not at.exception
    assert at.subheader[0].value.startswith("7.")
    assert any(s.label == "Number of seeds" for s in at.slider)


def test_lesson_without_pictures_shows_a_helpful_empty_state():
    at = open_lesson("noise")
    at.multiselect(key="learn:noise:samples").set_value([]).run()
    assert not at.exception
    assert "pick a sample to start" in at.info[0].value
    assert not at.get("plotly_chart")


def test_mixing_needs_two_pictures():
    at = open_lesson("mixing")
    at.multiselect(key="learn:mixing:samples").set_value(["Cat"]).run()
    assert "two images" in at.info[0].value


def test_preset_link_opens_the_pipeline_editor_with_the_preset():
    from augment_core.pipelines import presets

    link = lessons.build_lesson("choosing", values={"data_kind": "Digits and handwriting"}).links[-1]
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(link.query_params)
    at.switch_page(link.page)
    at.run()
    assert not at.exception and not at.error
    shown = " ".join(m.value for m in at.markdown)
    for step in presets.create_pipeline_preset("Digits and handwriting").active_steps():
        assert f"**{step.name}" in shown  # titles may say what the step does ("Affine: rotate, …")
