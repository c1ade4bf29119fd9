"""AppTests of the results view for photos: the "cannot tell" verdict with links that fill the form, and trying the model."""

from __future__ import annotations

import pytest

from augment_core.experiment import (ExperimentResult, ExperimentSpec, FinalEvaluation, RunStore, create_spec_preset, load_zip,
                                     run_experiment)
from augment_core.experiment.stats import analyse
from tests.apptest_helpers import fake_jobs, open_page, page_texts  # noqa: F401 - fixture
from tests.photos import photo_crops, photo_zip

pytestmark = pytest.mark.usefixtures("fake_jobs")


def _at_chance_run() -> int:
    """A stored run whose two arms are both at chance on 74 validation images (as in issue 13)."""
    spec = ExperimentSpec(name="insects", dataset="insects.zip", image_size=64, backbone="smallcnn-synthetic", epochs=15, seeds=3)
    result = ExperimentResult(spec, status="completed", class_names=("beetle", "bee"))
    ids = list(range(74))
    for rep in range(3):
        for arm, wrong in (("plain", range(0, 74, 2)), ("augmented", [*range(0, 74, 2)][:-3] + [1, 3, 5])):
            wrong = sorted(set(wrong))
            result.finals.append(FinalEvaluation(arm, rep, rep, 1 - len(wrong) / 74, [[20, 17], [17, 20]], [0.5, 0.5],
                                                 [{"index": i, "true": i % 2, "predicted": 1 - i % 2} for i in wrong], ids))
    result.analysis = analyse([], [f.to_dict() for f in result.finals])
    store = RunStore()
    result.run_id = store.create_run(result)
    for final in result.finals:
        store.add_final(result.run_id, final)
    store.finish_run(result)
    return result.run_id


def test_cannot_tell_says_so_first_and_links_fill_the_form():
    run_id = _at_chance_run()
    at = open_page("pages/runs.py")
    text = page_texts(at)
    assert "Neither model learned to tell these classes apart: both are at chance" in text
    assert "cannot tell whether augmentation helps" in text and "What to try next" in text
    links = {link.proto.label: link.proto.query_string for link in at.get("page_link") if link.proto.query_string}
    photo = next(q for label, q in links.items() if "MobileNetV3" in label)
    assert "backbone=mobilenetv3-imagenet" in photo and "image_size=112" in photo
    assert any("epochs=30" in q for q in links.values()), links
    assert run_id


def test_a_suggestion_link_fills_the_form():
    at = open_page("pages/experiment.py")
    at.query_params["epochs"] = "40"
    at.query_params["backbone"] = "smallcnn-scratch"
    at.run()
    assert at.number_input(key="exp:shapes:epochs").value == 40
    assert at.selectbox(key="exp:shapes:backbone").value == "smallcnn-scratch"


@pytest.mark.slow
def test_try_the_model_on_a_new_photo_on_the_results_page():
    dataset, _ = load_zip(photo_zip(6, val_per_class=3), image_size=32)
    spec = ExperimentSpec(name="photos", dataset="photos.zip", image_size=32, epochs=1, seeds=1, batch_size=6)
    result = run_experiment(spec, dataset=dataset, store=RunStore())
    at = open_page("pages/runs.py")
    name, data = photo_crops("cat", 1, seed=77)[0]
    at.file_uploader(key=f"run:{result.run_id}:try").set_value((name, data, "image/jpeg")).run()
    assert not at.exception, [e.value for e in at.exception]
    bars = [p.proto.text for p in at.get("progress")]
    assert len(bars) == 4 and sum(b.startswith("cat: ") for b in bars) == 2, bars  # 2 classes x 2 arms
    buttons = [b.proto.label for b in at.get("download_button")]
    assert sum("Download this model" in label for label in buttons) == 2


def test_a_photo_upload_brings_its_proposed_settings_into_the_form():
    at = open_page("pages/experiment.py")
    at.get("button_group")[0].set_value("Zip of class folders").run()  # widgets drawn with the no-data defaults first
    at.file_uploader(key="exp:zip").set_value(("photos.zip", photo_zip(8, val_per_class=4), "application/zip")).run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="exp:zip:backbone").value == "mobilenetv3-imagenet"
    assert at.session_state["exp:zip:proposed_size"] == 112  # (its widget waits below the download button)
    assert at.selectbox(key="exp:preset:zip").value.startswith("Photo pipeline")
    text = page_texts(at)
    steps = next(c.value for c in at.caption if str(c.value).startswith("Steps: "))
    assert "ChannelShuffle" not in steps and "Affine" in steps and "own split is kept" in text
    assert any("Why these settings (your images look like photos)" in e.label for e in at.expander)


@pytest.mark.slow
def test_the_runs_page_tries_this_runs_model_not_an_earlier_run_with_the_same_id(tmp_path, monkeypatch):
    """Run 1 of one data folder is tried on the page, then run 1 of another: the page must not serve the first's model."""
    name, data = photo_crops("cat", 1, seed=77)[0]
    shapes = create_spec_preset("demo", epochs=1, seeds=1, dataset_options={"per_class": 6, "seed": 3}, train_per_class=3,
                                epoch_repeats=1)
    first = run_experiment(shapes, store=RunStore())
    at = open_page("pages/runs.py")
    at.file_uploader(key=f"run:{first.run_id}:try").set_value((name, data, "image/jpeg")).run()
    assert any(p.proto.text.startswith("circle: ") for p in at.get("progress"))  # the shapes model, loaded and cached

    monkeypatch.setenv("AUGLAB_DATA_DIR", str(tmp_path / "another_folder"))
    dataset, _ = load_zip(photo_zip(6, val_per_class=3), image_size=32)
    spec = ExperimentSpec(name="photos", dataset="photos.zip", image_size=32, epochs=1, seeds=1, batch_size=6)
    second = run_experiment(spec, dataset=dataset, store=RunStore())
    assert second.run_id == first.run_id
    at = open_page("pages/runs.py")
    at.file_uploader(key=f"run:{second.run_id}:try").set_value((name, data, "image/jpeg")).run()
    assert not at.exception, [e.value for e in at.exception]
    bars = [p.proto.text for p in at.get("progress")]
    assert len(bars) == 4 and {b.split(":")[0] for b in bars} == {"cat", "coffee"}, bars
