"""AppTests of the Demo page's states: idle, running (live panel), finished (summary), failed, busy with another run."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from augment_core.prove import jobs
from augment_core.prove.demo import demo_spec
from augment_core.experiment import ExperimentResult, RunStore, create_spec_preset, run_experiment
from tests.helpers import make_fake
from tests.apptest_helpers import open_page, page_texts

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def real_result() -> ExperimentResult:
    """A real engine result (the demo preset shrunk to seconds), relabelled as the demo for the page."""
    result = run_experiment(create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 20, "seed": 1234}))
    assert result.status == "completed" and result.comparison["n"] == 2
    result.spec = demo_spec()
    return result


def _install(run) -> jobs.JobManager:
    manager = jobs.JobManager(run=run)
    jobs.set_default_manager(manager)
    return manager


@pytest.fixture(autouse=True)
def reset_manager():
    yield
    jobs.set_default_manager(None)


def open_demo() -> AppTest:
    return open_page("pages/demo.py")




def _button(at: AppTest, key: str):
    return at.button(key=key)


def test_idle_offers_one_button_and_explains_why():
    _install(make_fake(threading.Event()))
    at = open_demo()
    assert at.title[0].value == "Demo"
    text = page_texts(at)
    assert "Only 5 training images" in text  # the preset's own 'why'
    assert not _button(at, "demo:start").disabled
    assert not at.get("plotly_chart")


def test_one_click_starts_the_engine_demo_preset_and_shows_the_live_panel():
    gate = threading.Event()
    manager = _install(make_fake(gate, pause_after=1))
    at = open_demo()
    _button(at, "demo:start").click().run()
    assert not at.exception
    owner = at.session_state["auglab:owner"]
    snap = manager.snapshot(manager.job_for(owner))
    assert snap.spec == create_spec_preset("demo")  # exactly the engine's preset
    assert snap.running and at.get("progress")
    assert "Before" in page_texts(at) and "After" in page_texts(at)
    assert len(at.get("image")) >= 2  # the before and after rows
    manager.cancel(snap.job_id, at.session_state["auglab:secret"])
    gate.set()
    manager.wait(snap.job_id, timeout=10)


@pytest.mark.slow
def test_finished_demo_ends_on_the_summary_with_verdict_curves_strip_and_exports(real_result):
    def replay(spec, *, store, run_id, **kw):  # the worker's run function: write the real result into the queued run
        real_result.run_id = run_id
        store.attach_run(run_id, real_result)
        for record in real_result.epochs:
            store.add_epoch(run_id, record)
        for final in real_result.finals:
            store.add_final(run_id, final)
        store.finish_run(real_result)
        return real_result

    manager = _install(replay)
    at = open_demo()
    _button(at, "demo:start").click().run()
    manager.wait(manager.job_for(at.session_state["auglab:owner"]), timeout=10)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_texts(at)
    assert real_result.comparison["sentence"] in text  # the engine's verdict with its interval
    assert "Why augmentation helps here" in text and "Only 5 training images" in text
    assert len(at.get("plotly_chart")) == 1  # the two curves on one chart
    assert [m.label for m in at.metric] == ["Without augmentation", "With augmentation", "Change (points)"]
    assert len(at.get("image")) == 2  # before and after
    downloads = [d for d in at.get("download_button")]
    assert downloads, "the HTML report can be downloaded"
    assert _button(at, "demo:again") is not None


def test_failed_demo_says_why_and_offers_a_retry():
    def boom(spec, **kw):
        raise RuntimeError("out of memory")

    manager = _install(boom)
    at = open_demo()
    _button(at, "demo:start").click().run()
    manager.wait(manager.job_for(at.session_state["auglab:owner"]), timeout=10)
    at.run()
    assert "could not run" in page_texts(at) and "out of memory" in page_texts(at)
    assert not _button(at, "demo:again").disabled


def test_a_running_experiment_of_the_same_tab_blocks_the_demo_politely():
    gate = threading.Event()
    manager = _install(make_fake(gate, pause_after=1))
    at = open_demo()
    owner = at.session_state["auglab:owner"]
    job = manager.start(owner, create_spec_preset("demo", epochs=3, seeds=1))
    at.run()
    assert "already has" in page_texts(at)
    assert not [b for b in at.button if b.key == "demo:start"]
    manager.cancel(job)
    gate.set()
    manager.wait(job, timeout=10)


def _store(result: ExperimentResult) -> int:
    """Save ``result`` as a finished run, as the engine does."""
    store = RunStore()
    stored = copy.deepcopy(result)
    stored.run_id = store.create_run(stored)
    for record in stored.epochs:
        store.add_epoch(stored.run_id, record)
    for final in stored.finals:
        store.add_final(stored.run_id, final)
    store.finish_run(stored)
    return stored.run_id


def test_a_stored_finished_demo_is_shown_with_a_button_to_run_it_again(real_result):
    """Another tab (no job of its own) shows the stored demo result instead of offering to train it again."""
    manager = _install(make_fake(threading.Event()))
    run_id = _store(real_result)
    at = open_demo()
    assert not at.exception, [e.value for e in at.exception]
    text = page_texts(at)
    assert f"run #{run_id}" in text and at.get("plotly_chart")
    assert not any(b.key == "demo:start" for b in at.button)
    at.button(key="demo:again").click().run()
    assert manager.job_for(at.session_state["auglab:owner"]) is not None
