"""Settings proposed from uploaded images, what to try after "cannot tell", and run names that differ."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image

from augment_core.experiment import ExperimentSpec, load_zip
from augment_core.prove import PIPELINES, next_steps, parse_experiment_link, propose_settings, run_name
from tests.photos import photo_zip


def _grey_zip(per_class: int = 6) -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w") as zf:
        for cls in ("a", "b"):
            for i in range(per_class):
                png = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).convert("RGB").save(png, "PNG")
                zf.writestr(f"{cls}/{i}.png", png.getvalue())
    return buffer.getvalue()


def test_photos_get_a_photo_backbone_size_and_pipeline_with_reasons():
    ds, report = load_zip(photo_zip(12), image_size=64)
    proposal = propose_settings(ds, report)
    assert proposal.looks_like_photos
    v = proposal.values
    assert v["backbone"] == "mobilenetv3-imagenet" and v["image_size"] == 112 and v["strategy"] == "head"
    transforms = {t["__class_fullname__"] for t in PIPELINES[proposal.pipeline_name]["transform"]["transforms"]}
    assert "ChannelShuffle" not in transforms
    affine = next(t for t in PIPELINES[proposal.pipeline_name]["transform"]["transforms"] if t["__class_fullname__"] == "Affine")
    assert max(abs(a) for a in affine["rotate"]) <= 30  # no half-turns for photos
    for name in ("image_size", "backbone", "strategy", "epochs", "pipeline"):
        reason = proposal.reasons[name]
        assert reason and "\n" not in reason
    spec = ExperimentSpec(**{k: v for k, v in proposal.values.items()})  # the proposal is a valid spec
    assert spec.backbone == "mobilenetv3-imagenet"


def test_small_grey_images_keep_the_embedded_backbone():
    ds, report = load_zip(_grey_zip(), image_size=32)
    proposal = propose_settings(ds, report)
    assert not proposal.looks_like_photos and proposal.values["backbone"] == "smallcnn-synthetic"
    assert proposal.pipeline_name.startswith("Demo pipeline")


def test_cannot_tell_suggests_links_that_fill_the_form():
    spec = ExperimentSpec(dataset="x.zip", image_size=64, epochs=15, backbone="smallcnn-synthetic")
    steps = next_steps({"verdict": "cannot tell"}, spec, images_per_class=20)
    assert [s.label.split()[0] for s in steps] == ["Use", "Use", "Train", "Add"]
    for step in steps:
        if step.query_params:  # every link is one the form accepts, without a complaint
            link = parse_experiment_link(step.query_params)
            assert not link.problems and set(link.values) == set(step.query_params)
    assert steps[0].query_params["backbone"] == "mobilenetv3-imagenet"
    assert next_steps({"verdict": "helped"}, spec) == []
    photo = ExperimentSpec(dataset="x.zip", image_size=128, epochs=100, backbone="mobilenetv3-imagenet")
    assert [s.label for s in next_steps({"verdict": "cannot tell"}, photo)] == ["Add more images per class"]


def test_run_names_tell_runs_apart():
    a = run_name("insects.zip", {"backbone": "smallcnn-synthetic", "epochs": 15, "seeds": 3}, "Photo pipeline (x)")
    b = run_name("insects.zip", {"backbone": "mobilenetv3-imagenet", "epochs": 15, "seeds": 3}, "Photo pipeline (x)")
    c = run_name("insects.zip", {"backbone": "mobilenetv3-imagenet", "epochs": 15, "seeds": 3}, None)
    assert len({a, b, c}) == 3 and "insects.zip" in a and "MobileNetV3-Small" in b and "no augmentation" in c


def test_the_advice_quotes_the_training_images_per_class_the_run_really_had():
    """An upload's own split or train_per_class: validation counts do not tell how many images trained."""
    from augment_core.experiment import create_spec_preset, run_experiment
    from augment_core.prove import training_images_per_class

    spec = create_spec_preset("demo", epochs=1, seeds=1, dataset_options={"per_class": 12, "seed": 1}, train_per_class=5,
                              epoch_repeats=1)
    result = run_experiment(spec)
    assert result.analysis["train_counts"] == [5] * len(result.class_names)
    assert training_images_per_class(result) == 5  # the estimate from 6 validation images at val_fraction 0.5 said 12
