"""The Playground's first draw must not wait for the training engine: importing what it needs
loads neither torch, scikit-learn nor the experiment runner (albumentations is imported without its
optional torch helpers: ``augment_core._import_albumentations_lean``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_playground_modules_do_not_import_the_training_engine():
    code = ("import sys, ui.common, ui.images, ui.widgets, ui.pipeline_state; "
            "from augment_core.transforms import catalog, render_grid, transform_code; "
            "import ui.preview_grid, ui.widgets; "
            "print(sorted(m for m in ('torch', 'sklearn', 'augment_core.experiment.runner', 'augment_core.experiment.training', "
            "'augment_core.prove.setup', 'augment_core.prove.jobs') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"NO_ALBUMENTATIONS_UPDATE": "1", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
