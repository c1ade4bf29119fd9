"""Report figures, setup helpers and run history, on tiny seeded data (no streamlit)."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from augment_core.errors import AugLabError
from augment_core.experiment import DEMO_PIPELINE, RunStore, create_spec_preset, run_experiment
from augment_core.prove import setup
from augment_core.prove import report_figures as rf
from augment_core.prove import history


def _records() -> list[dict]:
    """Two arms, two seeds, three epochs, with known values."""
    out = []
    for rep in (0, 1):
        for epoch in (1, 2, 3):
            for arm, base in (("plain", 0.5), ("augmented", 0.6)):
                v = base + 0.1 * epoch + 0.02 * rep
                out.append({"arm": arm, "replicate": rep, "seed": rep, "epoch": epoch, "train_loss": 1 / epoch,
                            "train_acc": v, "val_loss": 1.5 / epoch, "val_acc": v, "lr": 1e-3, "seconds": 0.1})
    return out


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    spec = create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 10, "seed": 3}, train_per_class=3,
                         epoch_repeats=1)
    store = RunStore(tmp_path_factory.mktemp("runs") / "runs.sqlite3")
    result = run_experiment(spec, store=store)
    return store, result


def test_ema_is_tensorboards_debiased_average():
    assert rf.ema([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])  # debiased: no pull towards zero
    assert rf.ema([0.0, 1.0], 0.5) == pytest.approx([0.0, 0.5 * 1 / 0.75])
    assert rf.ema([1.0, 5.0], 0.0) == [1.0, 5.0]
    with pytest.raises(ValueError):
        rf.ema([1.0], 1.0)


def test_mean_band_matches_numpy_and_uses_percent():
    xs, mean, std, n = rf.mean_band(_records(), "val_acc")["augmented"]
    assert xs == [1, 2, 3] and list(n) == [2, 2, 2]
    assert mean[0] == pytest.approx(100 * np.mean([0.7, 0.72]))
    assert std[0] == pytest.approx(100 * np.std([0.7, 0.72], ddof=1))


def test_curves_figure_shares_axes_and_raw_data_survives_smoothing():
    fig = rf.curves_figure(_records(), smoothing=0.6, show_seeds=True, epochs=3)
    names = [t.name for t in fig.data]
    assert any("raw mean" in (n or "") for n in names) and any("EMA 0.6" in (n or "") for n in names)
    assert any("seed 2" in (n or "") for n in names)
    raw = next(t for t in fig.data if t.name == "With augmentation (raw mean)")
    assert list(raw.y) == pytest.approx([100 * np.mean([0.6 + 0.1 * e, 0.62 + 0.1 * e]) for e in (1, 2, 3)])
    assert fig.layout.xaxis2.matches == "x" or fig.layout.xaxis.range == (0.8, 3.2)
    assert fig.layout.yaxis2.matches == "y"  # row 1 columns share their y axis
    plain = rf.curves_figure(_records())
    assert not any("raw" in (t.name or "") for t in plain.data)


@pytest.mark.slow
def test_confusion_per_class_and_overlay_figures(tiny_result):
    store, result = tiny_result
    finals = [f.to_dict() for f in result.finals]
    cm = rf.summed_confusion(finals, "plain", len(result.class_names))
    assert cm.sum() == sum(len(f["val_indices"]) for f in finals if f["arm"] == "plain")
    assert len(rf.confusion_figure(finals, result.class_names).data) == 2
    assert len(rf.per_class_figure(finals, result.class_names).data) == 2
    overlay = rf.overlay_figure(history.overlay_runs(store, [result.run_id, result.run_id]))
    assert len(overlay.data) == 4


def test_html_export_is_self_contained():
    html = rf.figure_html(rf.comparison_figure(_records()))
    assert "<html>" in html and "Plotly.newPlot" in html and '<script src="http' not in html


def test_png_export_reports_a_missing_browser(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    problem = rf.png_export_problem()
    assert problem is not None and ("Chromium" in problem or "kaleido" in problem)
    with pytest.raises(AugLabError):
        rf.figure_png(rf.comparison_figure(_records()))


def test_pipeline_summary_and_steps():
    assert setup.pipeline_steps(DEMO_PIPELINE)[1] == "HorizontalFlip (p=0.5)"
    spec = create_spec_preset("demo", mixup_alpha=0.2)
    assert setup.pipeline_summary(spec).endswith("MixUp α=0.2")
    assert "no augmentation" in setup.pipeline_summary(replace(spec, pipeline=None, mixup_alpha=0.0))


@pytest.mark.parametrize("source", ["shapes", "digits", "zip"])
def test_default_specs_are_valid(source):
    spec = setup.default_spec(source, classes=3, images=12)
    assert spec.pipeline is None and spec.epochs >= 1


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 50, 3), colour, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_class_uploads_become_a_saved_zip_that_the_engine_reloads(isolated_data_dir):
    files = {"red": [(f"r{i}.png", _png((200 + i, 0, 0))) for i in range(3)],
             "blue": [(f"b{i}.png", _png((0, 0, 200 + i))) for i in range(3)] + [("bad.png", b"nope")]}
    prepared = setup.prepare_classes(files, image_size=32)
    assert prepared.report.per_class == {"blue": 3, "red": 3} and prepared.report.skipped[0][0].endswith("bad.png")
    assert prepared.spec_dataset.startswith(str(isolated_data_dir)) and prepared.spec_dataset.endswith(".zip")
    spec = replace(setup.default_spec("classes", images=6), dataset=prepared.spec_dataset, image_size=32)
    from augment_core.experiment.runner import load_dataset

    assert load_dataset(spec).fingerprint == prepared.dataset.fingerprint


def test_refused_data_raise_auglab_errors():
    with pytest.raises(AugLabError, match="at least two"):
        setup.prepare_classes({"only": [("a.png", _png((1, 2, 3))), ("b.png", _png((4, 5, 6)))]}, image_size=32)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil/a.png", _png((1, 1, 1)))
    with pytest.raises(AugLabError, match="outside"):
        setup.prepare_zip(buffer.getvalue(), image_size=32)


def test_show_batch_is_the_engines_first_batch_and_is_seeded():
    spec = create_spec_preset("demo", dataset_options={"per_class": 10, "seed": 3}, train_per_class=3, mixup_alpha=0.4)
    data = setup.prepare_builtin("shapes", image_size=32, options={"per_class": 10, "seed": 3}).dataset
    a, b = setup.show_batch(spec, data), setup.show_batch(spec, data)
    assert len(a.augmented) == len(a.originals) == len(a.captions) > 0
    assert a.augmented[0].shape == (32, 32, 3) and a.augmented[0].dtype == np.uint8
    assert all(np.array_equal(x, y) for x, y in zip(a.augmented, b.augmented))
    assert not all(np.array_equal(x, y) for x, y in zip(a.augmented, a.originals))
    assert "+" in " ".join(a.captions)  # MixUp labels are shown as weights


def test_check_pipeline_refuses_a_resize():
    spec = create_spec_preset("demo", pipeline={"__version__": "2.0.8", "transform": {"__class_fullname__": "Compose", "p": 1.0,
                         "transforms": [{"__class_fullname__": "Resize", "height": 50, "width": 50, "p": 1.0}]}})
    data = setup.prepare_builtin("shapes", image_size=32, options={"per_class": 4, "seed": 3}).dataset
    with pytest.raises(AugLabError, match="resiz|Resiz|turns"):
        setup.check_pipeline(spec, data)


@pytest.mark.slow
def test_estimate_time_is_positive_and_scales_with_epochs():
    spec = create_spec_preset("demo", dataset_options={"per_class": 10, "seed": 3}, train_per_class=3, seeds=1, epochs=2)
    data = setup.prepare_builtin("shapes", image_size=32, options={"per_class": 10, "seed": 3}).dataset
    short = setup.estimate_time(spec, data)
    assert short.seconds > 0 and short.steps == 2 * 2 * 1 * 2  # 2 arms x 2 epochs x 1 seed x 2 steps (repeats 2)
    long = setup.estimate_time(replace(spec, epochs=20), data)
    assert long.steps == 10 * short.steps


def test_run_history_rows_misclassified_and_interrupted(tiny_result):
    store, result = tiny_result
    rows = history.run_rows(store)
    assert rows[0].run_id == result.run_id and rows[0].status == "completed" and rows[0].verdict
    assert rows[0].epochs_done == rows[0].epochs_planned == 8 and rows[0].dataset == "shapes"
    assert history.effective_status("running", 3, active_run_ids=[]) == "interrupted"
    assert history.effective_status("running", 3, active_run_ids=[3]) == "running"
    data = history.run_dataset(result)
    wrong = history.misclassified(result, data, arm="plain")
    final = next(f for f in result.finals if f.arm == "plain" and f.replicate == 0)
    assert wrong.total == len(final.misclassified) and all("→" in c for c in wrong.captions)
    assert history.rerun_spec(store.load_run(result.run_id)) == result.spec


def test_accuracy_axis_fits_the_data_unless_full_range_is_asked():
    from augment_core.prove import accuracy_range, comparison_figure, curves_figure

    records = [{"arm": arm, "replicate": 0, "epoch": e, "val_acc": acc, "train_acc": acc + 0.02, "val_loss": 1.0, "train_loss": 1.0}
               for arm, base in (("plain", 0.70), ("augmented", 0.78)) for e, acc in ((1, base), (2, base + 0.01))]
    low, high = accuracy_range(records, ("val_acc",))
    assert 60 < low < 70 and 79 < high < 90  # an 8-point difference fills the chart
    assert accuracy_range(records, ("val_acc",), full_range=True) == [0.0, 101.0]
    assert list(comparison_figure(records).layout.yaxis.range) == [low, high]
    assert list(comparison_figure(records, full_range=True).layout.yaxis.range) == [0, 101]
    assert curves_figure(records).layout.yaxis.range[0] > 50


def test_the_fitted_accuracy_axis_holds_the_std_bands_not_only_the_seeds_values():
    """Two seeds at 50% and 60%: the band is 55 ± 7.1, past both seeds; the screenshot showed it cut off."""
    from augment_core.prove import accuracy_range

    records = [{"arm": "plain", "replicate": r, "epoch": 1, "val_acc": acc} for r, acc in ((0, 0.50), (1, 0.60))]
    low, high = accuracy_range(records, ("val_acc",))
    assert low <= 55 - 7.07 and high >= 55 + 7.07


@pytest.mark.slow
def test_estimate_matches_the_actual_run_within_a_generous_band():
    """Estimate, then run the same spec: actual / estimate is printed and must lie in [1/3, 3].

    The band is wide because the CPU is shared with other work; the point is to catch estimates
    that leave out whole costs (the augmented arm, evaluation after every epoch), which are off
    by far more than 3x on a short run.
    """
    spec = create_spec_preset("demo", dataset_options={"per_class": 40, "seed": 3}, train_per_class=8, seeds=2, epochs=4,
                              image_size=32)
    data = setup.prepare_builtin("shapes", image_size=32, options={"per_class": 40, "seed": 3}).dataset
    estimate = setup.estimate_time(spec, data)
    assert estimate.augmented_step_seconds > 0 and estimate.eval_seconds > 0
    tic = time.perf_counter()
    result = run_experiment(spec, dataset=data)
    actual = time.perf_counter() - tic
    assert result.status == "completed"
    ratio = actual / estimate.seconds
    print(f"estimate {estimate.seconds:.1f} s, actual {actual:.1f} s, ratio {ratio:.2f}, load/core {estimate.load:.1f} (shared CPU)")
    assert 1 / 3 <= ratio <= 3
