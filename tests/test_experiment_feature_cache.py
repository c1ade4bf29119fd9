"""The plain arm's frozen-prefix features are computed once and give the same training as recomputing them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augment_core.experiment import ExperimentSpec, run_experiment
from augment_core.experiment.loader import Normaliser, PlainBatches, batch_plan
from augment_core.experiment.training import apply_strategy, build_classifier, cache_plain_features


@pytest.mark.parametrize("strategy", ["head", "last_block", "all"])
def test_cache_holds_the_prefix_output_and_respects_the_budget(strategy):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8), np.arange(12) % 2
    model = apply_strategy(build_classifier("smallcnn-synthetic", 2, seed=0), strategy)
    plain = PlainBatches(images, labels, Normaliser((0.5,) * 3, (0.25,) * 3))
    cached = cache_plain_features(plain, model, max_bytes=2**30)
    if strategy == "all":
        assert cached is plain  # nothing is frozen, nothing to cache
        return
    assert cached.prefixed and len(cached.x) == 12
    with torch.no_grad():
        assert torch.allclose(cached.x, model.prefix(plain.x), atol=1e-5)
    batch = next(cached.epoch(batch_plan(12, batch_size=4, seed=0, epoch=0)))
    assert batch.prefixed and batch.images.shape[1:] == cached.x.shape[1:]
    assert cache_plain_features(plain, model, max_bytes=10) is plain  # over the budget: recompute every step


@pytest.mark.parametrize("strategy", ["head", "last_block"])
def test_a_run_with_the_cache_matches_a_run_without(strategy, monkeypatch):
    spec = ExperimentSpec(dataset="shapes", dataset_options={"per_class": 10}, strategy=strategy, epochs=2, seeds=1,
                          batch_size=8, lr=0.01)
    with_cache = run_experiment(spec)
    monkeypatch.setenv("AUGLAB_FEATURE_CACHE_MB", "0")
    without = run_experiment(spec)
    assert with_cache.status == without.status == "completed"
    for a, b in zip(with_cache.epochs, without.epochs):
        assert a.arm == b.arm and a.train_loss == pytest.approx(b.train_loss, rel=1e-4, abs=1e-5)
        assert a.val_loss == pytest.approx(b.val_loss, rel=1e-4, abs=1e-5)
