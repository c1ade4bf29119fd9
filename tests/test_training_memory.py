"""Training memory: the normaliser keeps one float copy of the set, evaluation batches are bounded by feature values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from augment_core.experiment.loader import Normaliser

ROOT = Path(__file__).resolve().parents[1]


def test_equals_the_textbook_formula_bit_for_bit():
    images = np.random.default_rng(3).integers(0, 256, (5, 17, 23, 3), dtype=np.uint8)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    expected = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    got = Normaliser(mean, std)(images)
    assert got.is_contiguous() and got.shape == (5, 3, 17, 23) and got.dtype == torch.float32
    assert torch.equal(got, expected)
    assert torch.equal(Normaliser(mean, std)(images[1:3]), got[1:3]), "slicing then normalising equals normalising then slicing"


def test_normalising_a_whole_set_holds_one_float_copy_not_three():
    """Found by the hostile sitting: at 368 px the training worker peaked at twice the data budget,
    because ``((x - mean) / std).contiguous()`` kept three float copies of the set alive at once."""
    code = """
import resource, numpy as np
from augment_core.experiment.loader import Normaliser
images = np.random.default_rng(0).integers(0, 255, (200, 256, 256, 3), dtype=np.uint8)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
Normaliser((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))(images)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 / (images.size * 4))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    growth = float(out.stdout.strip())
    # one float copy plus the contiguous uint8 one (a quarter): 1.25; the old three-copy version measured 3.0
    assert growth < 1.6, f"normalising grew the peak by {growth:.2f}× the float tensor's size"


def test_evaluation_batches_are_bounded_by_feature_values_not_only_images():
    """The validation pass was the run's memory peak at large sizes: 512 images per batch whatever their size."""
    from augment_core.experiment.training import evaluation_batch

    assert evaluation_batch(torch.zeros(4, 3, 64, 64)) == 512  # 64-px images: the old 512-image batches, same numbers
    assert evaluation_batch(torch.zeros(4, 96, 96, 96)) == 8_388_608 // (96 ** 3)  # 9 images of 884,736 values each
    assert evaluation_batch(torch.zeros(1, 3000, 1000, 1000)) == 1  # never zero


def test_evaluate_gives_the_same_numbers_in_any_batch_size():
    from augment_core.experiment.training import SplitModel, evaluate

    torch.manual_seed(0)
    body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 3))
    model = SplitModel(torch.nn.Sequential(), body, [])
    features, labels = torch.randn(50, 3, 4, 4), torch.randint(0, 3, (50,))
    whole, pieces = evaluate(model, features, labels), evaluate(model, features, labels, batch_size=7)
    assert whole["val_acc"] == pieces["val_acc"] and (whole["predictions"] == pieces["predictions"]).all()
    assert abs(whole["val_loss"] - pieces["val_loss"]) < 1e-6
