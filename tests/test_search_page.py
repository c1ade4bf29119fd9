"""AppTests of the Search page (idle, refusal, a real tiny search to its confirmed leaderboard) and the ablation panel."""

from __future__ import annotations

import time

import pytest

from augment_core.experiment import DEMO_PIPELINE
from augment_core.pipelines import from_dict
from augment_core.prove import tasks as task_module
from tests.apptest_helpers import open_page, page_texts


@pytest.fixture(autouse=True)
def fresh_tasks():
    manager = task_module.TaskManager()
    task_module.set_default_tasks(manager)
    yield manager
    for task_id in list(manager._tasks):  # no training thread may outlive its test (torch aborts at exit)
        manager.cancel(task_id)
        manager.wait(task_id, timeout=600)
    task_module.set_default_tasks(None)


def _wait(at, fresh_tasks, kind, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = [t for t in fresh_tasks._tasks.values() if t.kind == kind]
        if ids and all(t.status != "running" for t in ids):
            break
        time.sleep(0.5)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_idle_page_offers_the_form():
    at = open_page("pages/search.py")
    assert at.button(key="search:start") is not None
    assert [r.key for r in at.radio] == ["search:space"]
    assert "held-out" in page_texts(at)


def test_around_my_pipeline_without_a_pipeline_is_refused_in_words(fresh_tasks):
    at = open_page("pages/search.py")
    at.radio(key="search:space").set_value("around")
    at.button(key="search:start").click()
    at.run()
    assert "needs a pipeline" in page_texts(at)
    assert fresh_tasks._tasks == {}, "nothing started"


@pytest.mark.slow
def test_a_tiny_real_search_ends_on_the_confirmed_leaderboard(fresh_tasks):
    at = open_page("pages/search.py")
    at.segmented_control(key="search:unit").set_value("trials")
    at.run()
    at.number_input(key="search:trials").set_value(2)
    at.slider(key="search:epochs").set_value(1)
    at.button(key="search:start").click()
    at.run()
    at = _wait(at, fresh_tasks, "search")
    text = page_texts(at)
    assert "Confirmed on held-out data" in text and "is best" in text
    assert at.button(key="search:open") is not None
    at.button(key="search:open").click()
    at.run()
    assert not at.exception


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 4 arms x 2 seeds x 2 epochs of real training; minutes when the shared cores are busy
def test_ablation_from_the_pipeline_page(fresh_tasks):
    at = open_page("pages/pipeline.py")
    two_steps = {**DEMO_PIPELINE, "transform": {**DEMO_PIPELINE["transform"], "transforms": DEMO_PIPELINE["transform"]["transforms"][:2]}}
    at.session_state["auglab:pipeline"] = from_dict(two_steps)
    at.run()
    assert at.button(key="ablation:start") is not None and not at.button(key="ablation:start").disabled
    at.slider(key="ablation:epochs").set_value(2)
    at.slider(key="ablation:seeds").set_value(2)
    at.button(key="ablation:start").click()
    at.run()
    assert [t.kind for t in fresh_tasks._tasks.values()] == ["ablation"]
    at = _wait(at, fresh_tasks, "ablation", timeout=1000)
    text = page_texts(at)
    assert "What each step adds to the full pipeline" in text and "1. Affine" in text and "2. HorizontalFlip" in text


def test_the_form_keeps_the_users_choices_after_a_search(fresh_tasks):
    at = open_page("pages/search.py")
    at.radio(key="search:space").set_value("families")
    at.selectbox(key="search:data").set_value("digits")
    at.selectbox(key="search:kind").set_value("Digits and handwriting")
    at.segmented_control(key="search:unit").set_value("trials")
    at.run()
    at.number_input(key="search:trials").set_value(3)
    at.slider(key="search:epochs").set_value(2)
    at.button(key="search:start").click()
    at.run()
    assert at.button(key="search:stop") is not None, "the live view replaces the form while the search runs"
    for task_id in list(fresh_tasks._tasks):
        fresh_tasks.cancel(task_id)
        fresh_tasks.wait(task_id, timeout=600)
    at.run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="search:space").value == "families"
    assert at.selectbox(key="search:data").value == "digits"
    assert at.selectbox(key="search:kind").value == "Digits and handwriting"
    assert at.segmented_control(key="search:unit").value == "trials"
    assert at.number_input(key="search:trials").value == 3 and at.slider(key="search:epochs").value == 2
