"""Trained models: kept per arm, tried on a new photo, exported as ONNX (checked with onnxruntime) and TorchScript."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import onnxruntime as ort
import pytest
import torch

from augment_core.errors import AugLabError
from augment_core.experiment import ExperimentSpec, RunStore, run_experiment
from augment_core.experiment.export import (export_bundle, export_onnx, export_torchscript, load_trained, predict,
                                            prepare_image, trained_arms)
from augment_core.experiment.userdata import load_zip
from tests.photos import photo_crops, photo_zip


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    """One stored 2-seed run on real photo crops (module-scoped: training is the slow part)."""
    folder = tmp_path_factory.mktemp("auglab")
    mp = pytest.MonkeyPatch()
    mp.setenv("AUGLAB_DATA_DIR", str(folder))
    dataset, _ = load_zip(photo_zip(8, val_per_class=4), image_size=48)
    spec = ExperimentSpec(name="photos", dataset="photos.zip", image_size=48, backbone="smallcnn-synthetic", epochs=2,
                          seeds=2, batch_size=8, strategy="last_block")
    result = run_experiment(spec, dataset=dataset, store=RunStore())
    yield RunStore().load_run(result.run_id), folder
    mp.undo()


@pytest.fixture
def stored(photo_run, monkeypatch):
    result, folder = photo_run
    monkeypatch.setenv("AUGLAB_DATA_DIR", str(folder))
    return result


def test_both_arms_of_the_first_seed_are_kept_and_reload_to_their_validation_predictions(stored):
    assert stored.status == "completed" and trained_arms(stored) == ["plain", "augmented"]
    dataset, _ = load_zip(photo_zip(8, val_per_class=4), image_size=48)
    for arm in ("plain", "augmented"):
        trained = load_trained(stored, arm)
        final = next(f for f in stored.finals if f.arm == arm and f.replicate == 0)
        x = torch.from_numpy(dataset.images[final.val_indices]).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            preds = trained.module(x).argmax(1).numpy()
        wrong = {m["index"] for m in final.misclassified}
        assert [i in wrong for i in final.val_indices] == list(preds != dataset.labels[final.val_indices])


def test_try_the_model_on_a_new_photo(stored):
    trained = load_trained(stored, "augmented")
    name, data = photo_crops("cat", 1, seed=99)[0]  # a crop never uploaded
    top = predict(trained, data, name=name)
    assert [c for c, _ in top] in (["cat", "coffee"], ["coffee", "cat"]) and sum(p for _, p in top) == pytest.approx(1.0)
    assert prepare_image(trained, data).shape == (1, 3, 48, 48)
    with pytest.raises(AugLabError):
        predict(trained, b"not an image", name="x.jpg")


def test_onnx_export_matches_torch_with_onnxruntime(stored):
    trained = load_trained(stored, "augmented")
    onnx_bytes = export_onnx(trained)
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    photos = torch.cat([prepare_image(trained, d) for _, d in photo_crops("coffee", 3, seed=5) + photo_crops("cat", 3, seed=5)])
    ours = session.run(None, {"image": photos.numpy()})[0]  # a batch of 6: the batch axis is dynamic
    with torch.no_grad():
        reference = trained.module(photos).numpy()
    assert ours.shape == (6, 2) and np.abs(ours - reference).max() < 1e-4
    assert (ours.argmax(1) == reference.argmax(1)).all()
    scripted = torch.jit.load(io.BytesIO(export_torchscript(trained)))
    with torch.no_grad():
        assert torch.allclose(scripted(photos), torch.from_numpy(reference), atol=1e-5)


def test_the_bundle_has_everything_and_its_predict_script_agrees(stored, tmp_path):
    trained = load_trained(stored, "plain")
    with zipfile.ZipFile(io.BytesIO(export_bundle(trained))) as archive:
        assert set(archive.namelist()) == {"model.onnx", "model.torchscript.pt", "model.json", "predict.py"}
        archive.extractall(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["labels"] == ["cat", "coffee"] and meta["input"]["size"] == 48 and meta["input"]["square"] == "pad"
    assert meta["normalisation"]["inside_model"] and meta["checked"]["onnxruntime_max_abs_logit_difference"] < 1e-3
    assert len((tmp_path / "predict.py").read_text().strip().splitlines()) <= 16
    name, data = photo_crops("coffee", 1, seed=42)[0]
    (tmp_path / name).write_bytes(data)
    out = subprocess.run([sys.executable, "predict.py", name], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    script = json.loads(out.stdout)
    ours = dict(predict(trained, data))
    assert list(script)[0] == max(ours, key=ours.get)
    assert all(abs(script[c] - ours[c]) < 0.05 for c in ours)


def test_runs_without_kept_models_say_so(stored):
    from dataclasses import replace

    unstored = replace(stored, run_id=None)
    assert trained_arms(unstored) == []
    with pytest.raises(AugLabError, match="kept no trained model"):
        load_trained(unstored, "plain")
