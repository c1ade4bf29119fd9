"""Time left during a run: measured from real step and epoch times as the run goes, not from the fraction alone.

The old estimate extrapolated ``elapsed × (1 − f) / f``, so the set-up before the first step
(data, models, the feature cache) was charged to every later step and the Demo page's "time
left" started at tens of minutes for a one-minute run.
"""

from __future__ import annotations

import time

import pytest

from augment_core.experiment import StepCounter, create_spec_preset, run_experiment


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_set_up_before_the_first_step_is_not_charged_to_the_rest():
    clock = FakeClock()
    counter = StepCounter(20, clock=clock)
    clock.now = 10.0  # ten seconds of set-up, then one second a step
    counter.step()
    assert counter.seconds_left() is None  # one step says nothing about the pace yet
    for _ in range(4):
        clock.now += 1.0
        counter.step()
    assert counter.seconds_left() == pytest.approx(15.0)  # 15 steps at 1 s; the fraction alone said 42 s


def test_the_pace_follows_the_recent_steps_when_the_machine_slows_down():
    clock = FakeClock()
    counter = StepCounter(100, clock=clock)
    for _ in range(20):
        clock.now += 1.0
        counter.step()
    for _ in range(20):
        clock.now += 3.0  # other work took the CPU
        counter.step()
    left = counter.seconds_left()
    assert left is not None and left == pytest.approx(60 * 3.0)  # the recent half of the run: 3 s a step


def test_evaluation_time_between_epochs_counts_and_delivered_chunks_count():
    clock = FakeClock()
    counter = StepCounter(40, clock=clock)
    for epoch in range(2):
        for _ in range(10):
            clock.now += 1.0
            counter.step()
        clock.now += 5.0  # evaluation after the epoch: 15 s per 10 steps in all
    assert counter.seconds_left() == pytest.approx(20 * 1.5, rel=0.35)
    chunked = StepCounter(40, clock=clock)
    chunked.step(10)
    clock.now += 30.0
    chunked.step(10)  # a replicate trained elsewhere arrives all at once
    assert chunked.seconds_left() == pytest.approx(20 * 3.0)


def test_each_seed_still_to_start_is_charged_the_measured_set_up():
    clock = FakeClock()
    counter = StepCounter(40, replicates=2, clock=clock)  # two seeds of 20 steps
    counter.new_replicate()
    clock.now = 10.0  # this seed's set-up (models, caches), up to its first step
    counter.step()
    for _ in range(9):
        clock.now += 1.0
        counter.step()
    assert counter.seconds_left() == pytest.approx(30 * 1.0 + 10.0)  # 30 steps, and the second seed's set-up
    for _ in range(10):
        clock.now += 1.0
        counter.step()
    counter.new_replicate()
    clock.now += 2.0  # the second seed sets up faster (one-time costs are behind us)
    counter.step()
    clock.now += 1.0
    counter.step()
    assert counter.seconds_left() == pytest.approx(18 * 1.0)  # no seed left to start


def test_the_counter_keeps_little_memory_on_long_runs():
    counter = StepCounter(1_000_000, clock=FakeClock())
    for _ in range(100_000):
        counter.step()
    assert len(counter._marks) <= 4096  # noqa: SLF001


@pytest.mark.slow
def test_time_left_during_a_real_run_is_close_to_what_it_then_took():
    """A real short run: the estimate a third of the way in, against the time the rest really took (a ratio)."""
    # Long enough per seed that steps, not the one-time start of the first seed, are most of the time.
    spec = create_spec_preset("demo", epochs=10, seeds=2, dataset_options={"per_class": 12, "seed": 1},
                              train_per_class=6, epoch_repeats=2)
    seen: list[tuple[float, float, float | None]] = []  # (time, fraction, eta)
    run_experiment(spec, on_batch=lambda p: seen.append((time.perf_counter(), p.fraction, p.eta_s)))
    end = time.perf_counter()
    t, fraction, eta = next(s for s in seen if s[1] >= 1 / 3)
    assert eta is not None
    actual = end - t
    ratio = eta / actual
    print(f"estimate {eta:.1f} s at {fraction:.0%}, then took {actual:.1f} s (ratio {ratio:.2f})")
    assert 0.4 <= ratio <= 2.5, (eta, actual)  # generous: the CPU is shared; the old estimate was off by more
