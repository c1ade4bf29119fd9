"""Lessons 1, 5, 6 and 7: fine-tuning diagram, mixing, choosing augmentations, evaluating them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from augment_core import AugLabError, lessons
from augment_core.lessons import choosing, evaluation, finetuning, mixed_labels

# --- 1. fine-tuning ---------------------------------------------------------------------------


def test_layer_rows_count_parameters_of_any_module():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))
    rows = finetuning.layer_rows(model, lambda name: name.startswith("4."))
    assert [r.name for r in rows] == ["0", "1", "4"]  # ReLU and Flatten own nothing
    assert [r.params for r in rows] == [3 * 4 * 9 + 4, 8, 16 * 2 + 2]
    assert [r.trainable for r in rows] == [0, 0, 34]
    assert rows[0].kind == "Conv2d 3×3, 3→4"


def _local_backbones() -> list[str]:
    from augment_core.experiment.backbones import get_backbone_info, list_backbones

    return [n for n in list_backbones() if not get_backbone_info(n).downloads]


@pytest.mark.parametrize("backbone", _local_backbones())
def test_diagram_matches_the_engine_strategies(backbone):
    from augment_core.experiment.training import apply_strategy

    model = finetuning.build_model(backbone)
    names = {n for n, _ in model.named_parameters()}
    head = finetuning.trainable_names(model, "head")
    last = finetuning.trainable_names(model, "last_block")
    every = finetuning.trainable_names(model, "all")
    assert head == {n for n in names if n.startswith("head.")}
    assert head < last < every == names
    last_index = len(model.backbone.blocks) - 1
    assert all(n.startswith(("head.", f"backbone.blocks.{last_index}.")) for n in last)
    for strategy in finetuning.STRATEGY_ORDER:
        rows = finetuning.strategy_rows(backbone, strategy)
        split = apply_strategy(model, strategy)
        engine_count = sum(p.numel() for p in split.parameters() if p.requires_grad)
        assert sum(r.trainable for r in rows) == engine_count
        assert sum(r.params for r in rows) == sum(p.numel() for p in model.parameters())
    # The probe leaves the real model untouched.
    assert not all(p.detach().reshape(-1)[0].item() == i for i, p in enumerate(model.parameters()))


def test_every_trainable_parameter_of_the_diagram_gets_a_gradient():
    from augment_core.experiment.training import apply_strategy

    model = finetuning.build_model("smallcnn-scratch")
    split = apply_strategy(model, "last_block")
    split.train()
    split(torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))).sum().backward()
    with_grad = sum(p.numel() for p in split.parameters() if p.grad is not None)
    assert with_grad == sum(r.trainable for r in finetuning.strategy_rows("smallcnn-scratch", "last_block"))


def test_downloaded_backbone_without_cache_is_explained(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(AugLabError, match="downloaded on first use"):
        finetuning.build_model("resnet18-imagenet")


def test_finetuning_view_colours_frozen_and_trainable_layers():
    view = lessons.build_lesson("finetuning", values={"strategy": "head", "backbone": "smallcnn-scratch"})
    frozen, trainable = view.block("diagram_figure").content.data
    assert trainable.name == "trainable" and len(trainable.y) == 1 and "Linear" in trainable.y[0]
    assert len(frozen.y) == len(finetuning.strategy_rows("smallcnn-scratch", "head")) - 1
    assert view.links[0].query_params == {"backbone": "smallcnn-scratch", "strategy": "head"}


# --- 5. mixing --------------------------------------------------------------------------------


@pytest.fixture
def pair(rgb_image: np.ndarray) -> np.ndarray:
    return mixed_labels.prepare_pair(rgb_image, 255 - rgb_image[::-1])


def test_mixup_pair_blends_pictures_and_labels_by_lambda(pair):
    out = mixed_labels.mix_pair(pair, "mixup", 1.0, seed=5)
    assert int(out.partner[0]) == 1
    expected = out.lam * pair[0].astype(float) + (1 - out.lam) * pair[1].astype(float)
    assert np.abs(out.images[0].astype(float) - expected).max() <= 0.5 + 1e-9
    np.testing.assert_allclose(out.targets[0], [out.lam, 1 - out.lam], rtol=1e-6)


def test_cutmix_pair_pastes_a_box_and_weighs_labels_by_area(pair):
    out = mixed_labels.mix_pair(pair, "cutmix", 1.0, seed=5)
    y0, y1, x0, x1 = out.box
    np.testing.assert_array_equal(out.images[0][y0:y1, x0:x1], pair[1][y0:y1, x0:x1])
    outside = np.ones(pair.shape[1:3], bool)
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(out.images[0][outside], pair[0][outside])
    assert out.lam == pytest.approx(outside.mean())
    np.testing.assert_allclose(out.targets[0], [out.lam, 1 - out.lam], rtol=1e-6)


def test_mixing_is_seeded(pair):
    a, b = (mixed_labels.mix_pair(pair, "mixup", 0.4, seed=s) for s in (7, 7))
    assert a.lam == b.lam and np.array_equal(a.images, b.images)
    assert mixed_labels.mix_pair(pair, "mixup", 0.4, seed=8).lam != a.lam


def test_mixing_view_shows_the_label_weights(rgb_image):
    view = lessons.build_lesson("mixing", [rgb_image, rgb_image[::-1].copy()], {"alpha": 0.4, "seed": 2}, samples=("Cat", "Coffee"))
    mixed = mixed_labels.mix_pair(mixed_labels.prepare_pair(rgb_image, rgb_image[::-1].copy()), "mixup", 0.4, 2)
    assert view.block("mixup_image").caption.startswith("MixUp: ")
    assert "Cat" in view.block("mixup_image").caption and "Coffee" in view.block("mixup_image").caption
    bars = view.block("label_figure").content.data
    assert bars[0].y[0] == pytest.approx(mixed.lam) and bars[1].y[0] == pytest.approx(1 - mixed.lam)


# --- 6. choosing ------------------------------------------------------------------------------


def test_digit_classifier_reads_digits_and_an_upside_down_six_as_nine():
    images, labels = choosing.digits()
    assert (choosing.digit_probabilities(images).argmax(1) == labels).mean() > 0.9
    six = images[np.flatnonzero(labels == 6)[0]]
    np.testing.assert_array_equal(choosing.rotate_digit(six, 180), np.rot90(six, 2))
    upright, upside_down, nudged = choosing.digit_probabilities(np.stack([six, np.rot90(six, 2), choosing.rotate_digit(six, 10)]))
    assert upright.argmax() == 6 and nudged.argmax() == 6  # small turns preserve the label
    assert upside_down.argmax() == 9  # half a turn changes it


def test_fruit_hue_is_its_ripeness():
    ripe = choosing.fruit()
    assert choosing.mean_hue(ripe) == pytest.approx(choosing.RIPE_HUE, abs=3)
    assert choosing.ripeness(choosing.mean_hue(ripe)) > 0.9
    green = choosing.shift_hue_saturation(ripe, 90, 0)
    assert choosing.ripeness(choosing.mean_hue(green)) < 0.1


def test_choosing_view_checks_every_preset_against_the_data_kind():
    from augment_core.pipelines import presets

    view = lessons.build_lesson("choosing", values={"data_kind": "Digits and handwriting"})
    table = view.block("preset_table").content
    assert [row["preset"] for row in table] == presets.list_pipeline_presets()
    photos = next(r for r in table if r["preset"] == "Natural photos · light")
    assert "HorizontalFlip" in photos["label warnings for this data"]
    from augment_core.pipelines.io import decode_link

    assert view.links[-1].page == "pages/pipeline.py"
    assert decode_link(view.links[-1].query_params["pipeline"]) == presets.create_pipeline_preset("Digits and handwriting")


# --- 7. evaluation ----------------------------------------------------------------------------


def test_paired_interval_matches_scipy():
    sim = evaluation.simulate(8, 1.5, 3.0, seed=4)
    mean, low, high = evaluation.paired_interval(sim)
    ci = stats.ttest_rel(sim.augmented, sim.plain).confidence_interval(0.95)
    assert (mean, low, high) == pytest.approx((np.mean(sim.augmented - sim.plain), ci.low, ci.high), abs=1e-9)


def test_pairing_removes_the_shared_seed_spread():
    sim = evaluation.simulate(10, 1.0, 5.0, seed=0)
    _, p_low, p_high = evaluation.paired_interval(sim)
    _, u_low, u_high = evaluation.unpaired_interval(sim)
    assert p_high - p_low < (u_high - u_low) / 2


def test_intervals_cover_the_true_effect_95_percent_of_the_time_and_narrow_with_seeds():
    hits = [low <= 1.5 <= high for low, high in
            (evaluation.paired_interval(evaluation.simulate(6, 1.5, 3.0, seed=s))[1:] for s in range(400))]
    assert 0.92 <= np.mean(hits) <= 0.98
    widths = [np.mean([np.diff(evaluation.paired_interval(evaluation.simulate(n, 0.0, 3.0, seed=s))[1:])[0] / 2
                       for s in range(300)]) for n in (4, 16)]
    expected = evaluation.expected_half_width(np.array([4, 16]), np.sqrt(2) * evaluation.RUN_NOISE)
    np.testing.assert_allclose(widths, expected, rtol=0.08)
    assert widths[1] < widths[0] / 2


def test_verdict_reads_the_interval():
    assert evaluation.verdict(0.2, 1.0) == "helped"
    assert evaluation.verdict(-1.0, -0.1) == "hurt"
    assert evaluation.verdict(-0.5, 1.0) == "no clear difference"


def test_experiment_links_speak_the_spec_language(rgb_image):
    """Links into the experiment page name ExperimentSpec fields, with values the spec accepts."""
    from dataclasses import fields

    from augment_core.experiment.spec import ExperimentSpec

    names = {f.name: f for f in fields(ExperimentSpec)}
    default = ExperimentSpec()
    links = [link for key in lessons.list_lessons() for link in lessons.build_lesson(key, [rgb_image, rgb_image]).links
             if link.page == "pages/experiment.py"]
    assert len(links) >= 4
    for link in links:
        assert set(link.query_params) <= set(names)
        typed = {k: type(getattr(default, k))(v) for k, v in link.query_params.items()}
        ExperimentSpec(**typed)  # raises AugLabError if a value is out of range
