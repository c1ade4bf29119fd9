"""The CLI search with its trials as queued runs whose replicates run on a real 2-node local Ray cluster (127.0.0.1).

Skipped with a reason where Ray is not installed, except under CI (``CI=true``), where a missing Ray
is a failure (as tests/test_ray.py). Kept to two tiny trials: two shared cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ray_cluster import RAY_MARKS, local_cluster  # first: sets Ray's environment before Ray loads
from augment_core.experiment import RunStore
from augment_core.experiment.spec import ExperimentSpec

pytestmark = RAY_MARKS
ROOT = Path(__file__).resolve().parents[1]
TINY = ExperimentSpec(name="tiny", dataset="shapes", dataset_options={"per_class": 16}, image_size=32, epochs=1, seeds=1,
                      train_per_class=3, batch_size=6, val_fraction=0.5)


@pytest.fixture
def ray_cluster():
    """A head node and a second node, one CPU each."""
    with local_cluster() as (cluster, _):
        yield cluster


@pytest.mark.timeout(900)
def test_the_cli_search_runs_its_trials_on_a_two_node_ray_cluster(ray_cluster, isolated_data_dir, tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({"base": TINY.to_dict(), "space": "presets", "confirm_seeds": 2, "name": "ray search"}))
    env = {**os.environ, "AUGLAB_DATA_DIR": str(isolated_data_dir), "AUGLAB_RAY_ADDRESS": ray_cluster.address,
           "AUGLAB_TORCH_THREADS": "1", "PYTHONPATH": str(ROOT), "NO_ALBUMENTATIONS_UPDATE": "1"}
    done = subprocess.run([sys.executable, "-m", "augment_core.experiment", "search", str(spec_file), "--budget", "2",
                           "--workers", "2", "--no-pruning"],  # two trials at once: which Hyperband prunes depends on timing
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=840)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "trial   0 COMPLETE" in done.stdout and "trial   1 COMPLETE" in done.stdout
    assert "confirmed on the held-out part" in done.stdout and "is best" in done.stdout
    runs = RunStore(isolated_data_dir / "runs.sqlite3")
    stored = [runs.load_run(r["id"]) for r in runs.list_runs()]
    assert len(stored) == 2 + 2, "two trials and the two confirmation arms were queued runs"
    assert {r.status for r in stored} == {"completed"} and {r.versions["executor"] for r in stored} == {"ray"}
