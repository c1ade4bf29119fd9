"""The augmentation child process ends when its training process dies, instead of waiting forever on a full queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[1]

TRAINER = textwrap.dedent("""
    import sys, time
    from functools import partial
    import numpy as np
    from augment_core.experiment.augmentation import create_train_transform
    from augment_core.experiment.loader import AugmentedBatches, Normaliser, batch_plan
    from augment_core.experiment import DEMO_PIPELINE

    # Batches larger than a pipe holds (8 x 64 x 64 x 3 bytes = 96 KB > 64 KB), prefetched 8 deep as in a real run:
    # once nobody reads, the queue's feeder thread blocks on the full pipe, and a plain exit would wait for it.
    images = np.random.default_rng(0).integers(0, 255, (64, 64, 64, 3), dtype=np.uint8)
    labels = np.arange(64) % 2
    factory = partial(create_train_transform, DEMO_PIPELINE, seed=1, image_size=64)
    batches = AugmentedBatches(images, labels, Normaliser((0.5,) * 3, (0.5,) * 3), factory, num_classes=2, seed=1, prefetch=8)
    batches.start([batch_plan(64, batch_size=8, seed=0, epoch=e) for e in range(50)])  # far more than the queue holds
    print(batches._process.pid, flush=True)
    time.sleep(600)  # never reads: the child fills the queue and blocks on it
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_augmentation_child_exits_when_its_training_process_is_killed():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_ALBUMENTATIONS_UPDATE": "1"}
    trainer = subprocess.Popen([sys.executable, "-c", TRAINER], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        child = int(trainer.stdout.readline())
        assert _alive(child)
        os.kill(trainer.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
        trainer.wait(timeout=10)
        wait_until(lambda: not _alive(child), timeout=30, interval=0.2)  # before: blocked on put for ever
    finally:
        if trainer.poll() is None:
            trainer.kill()


def test_a_stopped_run_s_child_ends_by_itself_not_by_terminate():
    """Cancel or prune mid-run: the child blocked on a full queue sees the stop and exits (code 0), no SIGTERM."""
    from functools import partial

    import numpy as np

    from augment_core.experiment import DEMO_PIPELINE
    from augment_core.experiment.augmentation import create_train_transform
    from augment_core.experiment.loader import AugmentedBatches, Normaliser, batch_plan

    images = np.random.default_rng(0).integers(0, 255, (64, 32, 32, 3), dtype=np.uint8)
    factory = partial(create_train_transform, DEMO_PIPELINE, seed=1, image_size=32)
    batches = AugmentedBatches(images, np.arange(64) % 2, Normaliser((0.5,) * 3, (0.5,) * 3), factory, num_classes=2,
                               seed=1, prefetch=2)
    plans = [batch_plan(64, batch_size=8, seed=0, epoch=e) for e in range(20)]
    batches.start(plans)
    next(iter(batches.epoch(plans[0])))  # one batch read; the child fills the queue and blocks on it
    process = batches._process  # noqa: SLF001
    wait_until(lambda: batches._queue.full(), timeout=60, interval=0.05)  # noqa: SLF001 - the child is now blocked on put
    batches.close()
    assert process.exitcode == 0  # before: -15, terminated after a 2 s wait
