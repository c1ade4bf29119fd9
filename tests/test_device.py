"""The engine's device path (``AUGLAB_DEVICE``): batches, models, cached features and evaluation on one device.

Every test that takes ``device`` runs on the CPU here, through the same code path a GPU takes
(``device="cpu"`` is passed explicitly, never assumed), and again on CUDA where
``torch.cuda.is_available()``; without CUDA the CUDA cases skip with that reason.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augment_core.errors import AugLabError
from augment_core.experiment import RunQueue, RunStore, create_dataset, create_spec_preset, run_experiment, select_device
from augment_core.experiment.export import load_trained, model_file
from augment_core.experiment.loader import AugmentedBatches, Normaliser, PlainBatches, batch_plan
from augment_core.experiment.training import apply_strategy, build_classifier, cache_plain_features, evaluate, prefix_features

CUDA = torch.cuda.is_available()
NO_CUDA = "CUDA is not available on this machine (torch.cuda.is_available() is False)"
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason=NO_CUDA))]
SPEC = create_spec_preset("demo", epochs=2, seeds=1, dataset_options={"per_class": 8, "seed": 1}, train_per_class=4,
                          epoch_repeats=1)


def test_auto_is_cuda_exactly_when_cuda_is_available():
    assert select_device("auto").type == ("cuda" if CUDA else "cpu")
    assert select_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(CUDA, reason="CUDA is available here: the refusal only happens without it")
def test_cuda_without_cuda_is_refused_with_a_message():
    with pytest.raises(AugLabError, match="CUDA is not available here") as info:
        select_device("cuda")
    assert info.value.field == "AUGLAB_DEVICE" and "auto" in (info.value.hint or "")


@pytest.mark.skipif(CUDA, reason="CUDA is available here: the refusal only happens without it")
def test_a_queued_run_asking_for_cuda_without_it_fails_with_the_message_and_trains_nothing(monkeypatch):
    from augment_core.worker import Worker

    monkeypatch.setenv("AUGLAB_DEVICE", "cuda")
    queue = RunQueue()
    run_id = queue.enqueue(SPEC)
    assert Worker(poll_s=0.05).run_one() == run_id
    state = queue.state(run_id)
    assert state.status == "failed" and "CUDA is not available" in state.message
    assert queue.store.load_run(run_id).epochs == []


@pytest.mark.parametrize("device", DEVICES)
def test_batches_cached_features_and_evaluation_live_on_the_device(device):
    data = create_dataset("shapes", image_size=32, per_class=6, seed=0)
    normalise = Normaliser((0.5,) * 3, (0.25,) * 3)
    plan = batch_plan(len(data.labels), batch_size=8, seed=0, epoch=0)
    plain = PlainBatches(data.images, data.labels, normalise, device=device)
    mixed = AugmentedBatches(data.images, data.labels, normalise, None, num_classes=len(data.class_names), seed=0,
                             mixup_alpha=0.4, device=device)  # mixing only: no child process
    mixed.start([plan])
    model = apply_strategy(build_classifier("smallcnn-synthetic", len(data.class_names), seed=0), "head").to(device)
    cached = cache_plain_features(plain, model, max_bytes=2**30)
    batches = [next(plain.epoch(plan)), next(mixed.epoch(plan)), next(cached.epoch(plan))]
    for batch in batches:
        assert batch.images.device.type == device and batch.labels.device.type == device
    assert batches[1].targets is not None and batches[1].targets.device.type == device
    assert cached.prefixed and cached.x.device.type == device
    features = prefix_features(model, plain.x)
    result = evaluate(model, features, plain.y)
    assert isinstance(result["predictions"], np.ndarray) and result["predictions"].shape == (len(data.labels),)
    assert np.isfinite(result["val_loss"]) and 0.0 <= result["val_acc"] <= 1.0


@pytest.mark.parametrize("device", DEVICES)
def test_a_stored_run_records_its_device_and_keeps_cpu_models(device, monkeypatch):
    monkeypatch.setenv("AUGLAB_DEVICE", device)
    store = RunStore()
    result = run_experiment(SPEC, store=store)
    assert result.status == "completed", result.message
    want = "cpu" if device == "cpu" else f"cuda:{torch.cuda.current_device()}"
    assert result.versions["device"] == want
    row = store._conn().execute("SELECT device FROM runs WHERE id=?", (result.run_id,)).fetchone()  # noqa: SLF001
    assert row["device"] == want
    assert len(result.epochs) == 2 * SPEC.epochs and all(np.isfinite(e.val_loss) for e in result.epochs)
    for arm in ("plain", "augmented"):  # kept models are CPU copies: they load on a machine without a GPU
        state = torch.load(model_file(result.run_id, arm), weights_only=True)
        assert {t.device.type for t in state.values()} == {"cpu"}
        assert load_trained(store.load_run(result.run_id), arm) is not None


def test_the_cpu_device_gives_the_numbers_of_the_default_path(monkeypatch):
    """``AUGLAB_DEVICE=cpu`` trains exactly what a CPU-only machine's ``auto`` trains (the pre-GPU numbers)."""
    monkeypatch.setenv("AUGLAB_DEVICE", "cpu")
    explicit = run_experiment(SPEC)
    monkeypatch.setenv("AUGLAB_DEVICE", "auto")
    if CUDA:
        pytest.skip("auto is CUDA here; the CPU-versus-CUDA comparison is the next test")
    default = run_experiment(SPEC)
    assert [(e.arm, e.epoch, e.train_loss, e.val_loss, e.val_acc) for e in explicit.epochs] == \
        [(e.arm, e.epoch, e.train_loss, e.val_loss, e.val_acc) for e in default.epochs]


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
def test_cuda_trains_close_to_the_cpu(monkeypatch):
    """Not bit-identical (cuDNN kernels, TF32), but the same run: first-epoch losses within 10%."""
    monkeypatch.setenv("AUGLAB_DEVICE", "cpu")
    cpu = run_experiment(SPEC)
    monkeypatch.setenv("AUGLAB_DEVICE", "cuda")
    gpu = run_experiment(SPEC)
    assert gpu.status == "completed" and gpu.versions["device"].startswith("cuda") and gpu.versions["gpu"]
    for a, b in zip(cpu.epochs[:2], gpu.epochs[:2], strict=True):
        assert (a.arm, a.epoch) == (b.arm, b.epoch) and b.train_loss == pytest.approx(a.train_loss, rel=0.1)
