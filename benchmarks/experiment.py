"""Benchmark the experiment engine; prints figures, asserts nothing about time.

1. Wall time of the built-in demo comparison (2 arms x 3 seeds), and its result.
2. Augmented-epoch / plain-epoch time, measured each arm on its own (not interleaved), on the
   demo's data, model and pipeline (target <= 1.25: augmentation must not starve the model).
3. Our training-step throughput (``train_one_epoch`` with its batch source) against a minimal
   hand-written PyTorch loop on the same model and batches (target >= 0.9).

Run: ``python benchmarks/experiment.py`` (about a minute on two cores).
"""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from augment_core.experiment.augmentation import create_train_transform  # noqa: E402
from augment_core.experiment.backbones import get_backbone_info  # noqa: E402
from augment_core.experiment.datasets import create_dataset  # noqa: E402
from augment_core.experiment.loader import AugmentedBatches, Normaliser, PlainBatches, batch_plan  # noqa: E402
from augment_core.experiment.presets import create_spec_preset  # noqa: E402
from augment_core.experiment.runner import configure_threads, run_experiment  # noqa: E402
from augment_core.experiment.training import apply_strategy, build_classifier, make_optimizer, train_one_epoch  # noqa: E402


def demo_wall_time() -> None:
    """Figure 1."""
    spec = create_spec_preset("demo")
    tic = time.perf_counter()
    result = run_experiment(spec)
    wall = time.perf_counter() - tic
    c = result.comparison or {}
    print(f"demo comparison (2 arms x {spec.seeds} seeds, {spec.epochs} epochs): {wall:.1f} s wall")
    print(f"  per-seed gains (points): {', '.join(f'{d:+.1f}' for d in c['differences'])}; "
          f"mean {c['mean']:+.1f}, 95% CI {c['ci_low']:+.1f} to {c['ci_high']:+.1f}: {c['verdict']}")


def _time_arm(arm: str, spec, ds, norm, plans, initial) -> float:
    """Seconds per epoch of one arm over ``plans`` (a fresh model, optimiser and batch source)."""
    model = apply_strategy(initial, spec.strategy)
    opt = make_optimizer(model, spec)
    if arm == "plain":
        source = PlainBatches(ds.images, ds.labels, norm)
    else:
        transform = partial(create_train_transform, spec.pipeline, seed=1, image_size=32)
        source = AugmentedBatches(ds.images, ds.labels, norm, transform, num_classes=len(ds.class_names), seed=0)
    tic = time.perf_counter()
    if isinstance(source, AugmentedBatches):
        source.start(plans)
    for plan in plans:
        train_one_epoch(model, source.epoch(plan), opt, step=0, total_steps=1, schedule="constant")
    seconds = (time.perf_counter() - tic) / len(plans)
    source.close()
    return seconds


def epoch_ratio(rounds: int = 3) -> None:
    """Figure 2: best of ``rounds`` alternating measurements (robust to other load on the machine)."""
    for strategy, per_class, epochs in (("last_block", 5, 30), ("last_block", 100, 3), ("all", 100, 2)):
        spec = create_spec_preset("demo", strategy=strategy)
        ds = create_dataset("shapes", image_size=32, per_class=per_class)
        info = get_backbone_info(spec.backbone)
        norm = Normaliser(info.mean, info.std)
        plans = [batch_plan(len(ds.labels), batch_size=spec.batch_size, seed=0, epoch=e, repeats=spec.epoch_repeats)
                 for e in range(epochs)]
        initial = build_classifier(spec.backbone, len(ds.class_names), seed=0)
        _time_arm("plain", spec, ds, norm, plans[:1], initial)  # warm-up (oneDNN primitives, allocator)
        best = {"plain": float("inf"), "augmented": float("inf")}
        for _ in range(rounds):
            for arm in best:
                best[arm] = min(best[arm], _time_arm(arm, spec, ds, norm, plans, initial))
        print(f"epoch time, demo pipeline, strategy {strategy}, {len(ds.labels)} training images x {spec.epoch_repeats} "
              f"passes: plain {best['plain'] * 1000:.0f} ms, augmented {best['augmented'] * 1000:.0f} ms, "
              f"ratio {best['augmented'] / best['plain']:.2f}")


def throughput(rounds: int = 5) -> None:
    """Figure 3: best of ``rounds`` alternating epochs of each loop."""
    spec = create_spec_preset("demo", strategy="all")
    ds = create_dataset("shapes", image_size=32, per_class=64)
    info = get_backbone_info(spec.backbone)
    source = PlainBatches(ds.images, ds.labels, Normaliser(info.mean, info.std))
    plan = batch_plan(len(ds.labels), batch_size=32, seed=0, epoch=0)
    initial = build_classifier(spec.backbone, 6, seed=0)
    batches = list(source.epoch(plan))
    rates = {"hand-written loop": 0.0, "engine": 0.0}
    for _ in range(rounds):
        for name in rates:
            model = apply_strategy(initial, spec.strategy)
            opt = make_optimizer(model, spec)
            model.train()
            tic = time.perf_counter()
            if name == "engine":
                train_one_epoch(model, source.epoch(plan), opt, step=0, total_steps=1, schedule="constant")
            else:
                for b in batches:
                    loss = F.cross_entropy(model(b.images), b.labels)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            rates[name] = max(rates[name], len(ds.labels) / (time.perf_counter() - tic))
    print(f"training throughput (strategy all, batch 32, best of {rounds}): engine {rates['engine']:.0f} img/s, "
          f"hand-written loop {rates['hand-written loop']:.0f} img/s, ratio {rates['engine'] / rates['hand-written loop']:.2f}")


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {configure_threads()} threads")
    demo_wall_time()
    epoch_ratio()
    throughput()
