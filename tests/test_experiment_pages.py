"""AppTests of the Experiment page's states (idle, running, finished, cancelled, refused data) and the Runs page."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from augment_core.prove import jobs
from augment_core.experiment import RunStore, create_spec_preset, run_experiment
from tests.helpers import make_fake, wait_until
from tests.apptest_helpers import open_page, page_texts

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def manager():
    """A fresh server-wide job manager per test (fake quick runs unless a test swaps it)."""
    gate = threading.Event()
    m = jobs.JobManager(run=make_fake(gate, pause_after=2))
    m.gate = gate  # type: ignore[attr-defined]
    jobs.set_default_manager(m)
    yield m
    gate.set()
    jobs.set_default_manager(None)


def open_experiment(path: str = "pages/experiment.py") -> AppTest:
    return open_page(path)




def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _png(colour: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((36, 36, 3), colour, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_idle_page_shows_the_demo_data_setup_and_buttons(manager):
    at = open_experiment()
    text = page_texts(at)
    assert "1 · Data" in text and "images per class" in text and "Only 5 training images" in text
    assert not _button(at, "Start training").disabled
    assert at.number_input(key="exp:shapes:epochs").value == 30  # the demo preset's defaults
    assert at.query_params.get("lab")  # the public follow token is in the URL for reattaching


def test_running_then_cancelled_keeps_finished_epochs(manager):
    at = open_experiment()
    _button(at, "Start training").click().run()
    owner = at.session_state["auglab:owner"]
    wait_until(lambda: manager.snapshot(manager.job_for(owner)).status == "running")  # the worker took it
    at.run()
    assert "Training: shapes" in page_texts(at)
    assert at.get("progress")  # the live progress bar
    assert at.session_state["auglab:secret"] not in str(dict(at.query_params))  # the secret is never in the URL
    manager.gate.set()
    job = manager.job_for(owner)
    wait_until(lambda: len(manager.snapshot(job).epochs) >= 2)
    # A reloaded page (new session, same URL token) reattaches to the running job.
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["lab"] = owner
    again.run()
    again.switch_page("pages/experiment.py")
    again.query_params["lab"] = owner
    again.run()
    assert "Training: shapes" in page_texts(again)
    # ...and can watch it, but only the session that started it may cancel it.
    assert "Started by another session" in page_texts(again) and not [b for b in again.button if b.key == "live:cancel"]
    at.button(key="live:cancel").click().run()
    snap = manager.wait(job, 10)
    assert snap.status == "cancelled"
    at.run()
    text = page_texts(at)
    assert "cancelled" in text and "Result: shapes" in text
    assert len(RunStore().load_run(snap.run_id).epochs) == 2


@pytest.mark.slow
def test_finished_run_shows_the_verdict_and_results(manager):
    jobs.set_default_manager(jobs.JobManager(run=run_experiment))  # an in-process worker with the real engine, tiny config
    at = open_experiment()
    at.number_input(key="exp:shapes:epochs").set_value(2)
    at.number_input(key="exp:shapes:seeds").set_value(2)
    at.number_input(key="exp:shapes:per_class").set_value(3)
    at.run()
    _button(at, "Start training").click().run()
    m = jobs.default_manager()
    snap = m.wait(m.job_for(at.session_state["auglab:owner"]), 300)
    assert snap.status == "completed"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_texts(at)
    assert "Result: shapes" in text and "final validation accuracy changed by" in text and "8 of 8 epochs finished" in text
    assert len(at.tabs) >= 5
    _button(at, "Hide this result").click().run()
    assert "Result: shapes" not in page_texts(at)


def test_a_second_run_from_another_page_is_queued_with_its_position(manager):
    first = manager.start("someone else", create_spec_preset("demo", epochs=2, seeds=1))
    wait_until(lambda: manager.snapshot(first).status == "running")  # one in-process worker, now busy
    at = open_experiment()
    _button(at, "Start training").click().run()
    text = page_texts(at)
    assert "Queued: shapes" in text, text
    assert "1st in the queue" in text
    job = manager.job_for(at.query_params["lab"])
    assert manager.snapshot(job).position == 1
    manager.gate.set()
    manager.cancel(first, "someone else")
    wait_until(lambda: manager.snapshot(job).status != "queued")  # it starts by itself


def test_refused_zip_shows_why_and_cannot_start(manager):
    at = open_experiment()
    at.get("button_group")[0].set_value("Zip of class folders").run()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cats/a.png", _png(10))
        archive.writestr("cats/b.png", _png(20))
    at.file_uploader(key="exp:zip").set_value(("one_class.zip", buffer.getvalue(), "application/zip")).run()
    errors = " ".join(e.value for e in at.error)
    assert "cannot be used for training" in errors and "at least two" in errors
    assert _button(at, "Start training").disabled


def test_per_class_uploads_show_the_report(manager):
    at = open_experiment()
    at.get("button_group")[0].set_value("My classes").run()
    at.text_input(key="exp:class:0:name").set_value("dark").run()
    at.text_input(key="exp:class:1:name").set_value("light").run()
    at.file_uploader(key="exp:class:0:files").set_value([(f"d{i}.png", _png(10 + i), "image/png") for i in range(4)] +
                                                         [("broken.png", b"not an image", "image/png")])
    at.file_uploader(key="exp:class:1:files").set_value([(f"l{i}.png", _png(200 + i), "image/png") for i in range(4)])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_texts(at)
    assert "8 images kept" in text and "dark 4" in text and "1 file(s) skipped" in " ".join(e.label for e in at.expander)
    assert not _button(at, "Start training").disabled


@pytest.mark.slow
def test_runs_page_lists_opens_overlays_and_deletes(manager):
    at = open_experiment("pages/runs.py")
    assert "No runs yet" in page_texts(at)
    spec = create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 10, "seed": 3}, train_per_class=3, epoch_repeats=1)
    first = run_experiment(spec, store=RunStore())
    second = run_experiment(spec, store=RunStore())
    at = open_experiment("pages/runs.py")
    assert at.dataframe and len(at.dataframe[0].value) == 2
    assert "final validation accuracy changed by" in page_texts(at)  # the newest run is open
    at.multiselect(key="runs:selected").set_value([first.run_id, second.run_id]).run()
    assert not at.exception and at.selectbox(key="runs:metric").value == "val_acc"
    at.button(key="runs:confirm_delete").click().run()
    assert not at.exception
    assert [r["id"] for r in RunStore().list_runs()] == []


def test_runs_page_rerun_starts_a_job_with_the_same_spec(manager):
    spec = create_spec_preset("demo", epochs=2, seeds=1)
    from augment_core.experiment import ExperimentResult

    run_id = RunStore().create_run(ExperimentResult(spec, class_names=("a", "b")))  # left "running": interrupted
    at = open_experiment("pages/runs.py")
    assert "interrupted" in str(at.dataframe[0].value["status"].tolist())
    at.button(key="runs:rerun").click().run()
    job = manager.job_for(at.session_state["auglab:owner"])
    assert job is not None and manager.snapshot(job).spec == spec and run_id


def _zip_of_classes(count: int = 40) -> bytes:
    """A zip of two class folders with ``count`` distinct images each."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for cls, base in (("dark", 10), ("light", 150)):
            for i in range(count):
                archive.writestr(f"{cls}/{i}.png", _png(base + i))
    return buffer.getvalue()


@pytest.mark.parametrize("ending", ["completed", "cancelled"])
def test_the_next_run_trains_what_the_form_shows_after_a_run(ending):
    """After a run on an uploaded zip, the form still shows that zip, pipeline and settings, and Start trains them."""
    gate = threading.Event()
    manager = jobs.JobManager(run=make_fake(gate))
    jobs.set_default_manager(manager)
    try:
        at = open_experiment()
        at.get("button_group")[0].set_value("Zip of class folders").run()
        at.file_uploader(key="exp:zip").set_value(("mine.zip", _zip_of_classes(), "application/zip")).run()
        at.radio(key="exp:aug_origin").set_value("preset").run()
        at.selectbox(key="exp:preset:zip").set_value("Natural photos · light").run()
        at.number_input(key="exp:zip:epochs").set_value(3).run()
        _button(at, "Start training").click().run()
        owner = at.session_state["auglab:owner"]
        first = manager.snapshot(manager.job_for(owner)).spec
        assert first.dataset.endswith(".zip") and first.epochs == 3
        if ending == "cancelled":
            at.button(key="live:cancel").click().run()
        gate.set()
        manager.wait(manager.job_for(owner), 10)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert "Set up the next run" in [h.value for h in at.header]
        assert at.get("button_group")[0].value == "Zip of class folders"
        assert "mine.zip" in page_texts(at) and "80 images kept" in page_texts(at)
        at.number_input(key="exp:zip:seeds").set_value(2).run()  # change one number, then Start
        _button(at, "Start training").click().run()
        second = manager.snapshot(manager.job_for(owner)).spec
        assert second.dataset == first.dataset and second.pipeline == first.pipeline
        assert second.epochs == 3 and second.seeds == 2
    finally:
        gate.set()
        jobs.set_default_manager(None)


def test_passes_per_epoch_follow_the_data_unless_the_user_set_them(manager):
    """Derived defaults are recomputed when the data change: 80 images -> the rule's value, not the zero-image value."""
    from augment_core.prove import default_spec

    at = open_experiment()
    at.get("button_group")[0].set_value("Zip of class folders").run()
    at.file_uploader(key="exp:zip").set_value(("mine.zip", _zip_of_classes(), "application/zip")).run()
    assert at.number_input(key="exp:zip:repeats").value == default_spec("zip", classes=2, images=80).epoch_repeats < 8
    at.file_uploader(key="exp:zip").set_value(("few.zip", _zip_of_classes(6), "application/zip")).run()
    assert at.number_input(key="exp:zip:repeats").value == default_spec("zip", classes=2, images=12).epoch_repeats > 1
    at.number_input(key="exp:zip:repeats").set_value(5).run()  # the user's own value stands
    at.file_uploader(key="exp:zip").set_value(("mine.zip", _zip_of_classes(), "application/zip")).run()
    assert at.number_input(key="exp:zip:repeats").value == 5


def test_the_data_line_states_what_will_be_trained_on(manager):
    at = open_experiment()
    text = page_texts(at)
    assert "5 training images per class" in text and "200 per class" not in text
    at.number_input(key="exp:shapes:per_class").set_value(0).run()
    assert "5 training images per class" not in page_texts(at)


def test_the_form_survives_a_visit_to_another_page(manager):
    """Streamlit drops the values of widgets a run does not draw; the form gives them back, uploads included."""
    at = open_experiment()
    at.get("button_group")[0].set_value("Zip of class folders").run()
    at.file_uploader(key="exp:zip").set_value(("mine.zip", _zip_of_classes(), "application/zip")).run()
    at.number_input(key="exp:zip:epochs").set_value(4).run()
    at.radio(key="exp:aug_origin").set_value("none").run()
    at.switch_page("pages/pipeline.py").run()
    at.switch_page("pages/experiment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("button_group")[0].value == "Zip of class folders" and "Using **mine.zip**" in page_texts(at)
    assert at.number_input(key="exp:zip:epochs").value == 4 and at.radio(key="exp:aug_origin").value == "none"
    # no "set via the Session State API and given a default" warnings
    assert not [w.value for w in at.warning if "Session State" in str(w.value)]


def test_runs_page_opens_a_finished_run_not_one_still_training(manager):
    from augment_core.experiment import ExperimentResult

    spec = create_spec_preset("demo", epochs=2, seeds=1)
    done = ExperimentResult(spec, class_names=("a", "b"))
    done.run_id = RunStore().create_run(done)
    done.status = "completed"
    RunStore().finish_run(done)
    job = manager.start("someone", spec)  # held by the gate: still training, newest run
    wait_until(lambda: manager.snapshot(job).run_id is not None)
    at = open_experiment("pages/runs.py")
    assert at.multiselect(key="runs:selected").value == [done.run_id]
    statuses = at.dataframe[0].value["status"].tolist()
    assert set(statuses) == {"running", "completed"}  # words only: no emoji that show as empty boxes


def test_runs_page_refuses_to_delete_a_run_another_session_started(manager):
    from augment_core.experiment import RunQueue

    queue = RunQueue()
    theirs = queue.enqueue(create_spec_preset("demo", epochs=2, seeds=1), owner="another session", follow="their-page")
    queue.request_cancel(theirs, "another session")  # finished (cancelled before it started)
    at = open_experiment("pages/runs.py")
    assert "cancelled" in str(at.dataframe[0].value["status"].tolist())
    at.button(key="runs:confirm_delete").click().run()
    assert "started by another session" in " ".join(w.value for w in at.warning)
    assert queue.state(theirs).status == "cancelled"  # still there
