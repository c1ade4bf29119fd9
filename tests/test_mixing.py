"""MixUp / CutMix: shapes, label mass, λ bookkeeping, seeding, numpy and torch alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augment_core.pipelines.mixing import cutmix, describe_mix, mix_batch, mixup, one_hot


def _batch(lib: str):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2, 0, 1, 2])
    if lib == "torch":
        return torch.from_numpy(images).permute(0, 3, 1, 2).float(), torch.from_numpy(labels)
    return images, labels


@pytest.mark.parametrize("lib", ["numpy", "torch"])
@pytest.mark.parametrize("fn", [mixup, cutmix])
def test_shapes_types_and_label_mass(lib, fn):
    images, labels = _batch(lib)
    out = fn(images, labels, 3, alpha=1.0, rng=1)
    assert type(out.images) is type(images) and out.images.shape == images.shape and out.images.dtype == images.dtype
    targets = np.asarray(out.targets)
    assert targets.shape == (6, 3) and np.allclose(targets.sum(1), 1.0)
    assert 0.0 <= out.lam <= 1.0 and sorted(out.partner.tolist()) == list(range(6))
    hot = one_hot(np.asarray(labels), 3)
    assert np.allclose(targets, out.lam * hot + (1 - out.lam) * hot[out.partner], atol=1e-6)


@pytest.mark.parametrize("fn", [mixup, cutmix])
def test_same_seed_same_result_and_different_seed_differs(fn):
    images, labels = _batch("numpy")
    a, b, c = (fn(images, labels, 3, alpha=0.4, rng=s) for s in (5, 5, 6))
    assert np.array_equal(a.images, b.images) and a.lam == b.lam
    assert not (np.array_equal(a.images, c.images) and a.lam == c.lam)


def test_mixup_pixels_are_the_convex_combination():
    images, labels = _batch("torch")
    out = mixup(images, labels, 3, alpha=0.4, rng=3)
    expected = out.lam * images + (1 - out.lam) * images[torch.from_numpy(out.partner)]
    assert torch.allclose(out.images, expected)


def test_cutmix_lambda_is_the_area_actually_kept():
    images, labels = _batch("numpy")
    out = cutmix(images, labels, 3, alpha=1.0, rng=11)
    y0, y1, x0, x1 = out.box
    assert out.lam == pytest.approx(1 - (y1 - y0) * (x1 - x0) / (16 * 16))
    inside = out.images[:, y0:y1, x0:x1]
    assert np.array_equal(inside, images[out.partner][:, y0:y1, x0:x1])
    mask = np.ones((16, 16), bool)
    mask[y0:y1, x0:x1] = False
    assert np.array_equal(out.images[:, mask], images[:, mask])


def test_lambda_distribution_follows_beta():
    images, labels = _batch("numpy")
    lams = np.array([mixup(images, labels, 3, alpha=0.2, rng=s).lam for s in range(400)])
    # Beta(0.2, 0.2) is U-shaped: most mass near 0 and 1.
    assert ((lams < 0.1) | (lams > 0.9)).mean() > 0.5
    lams = np.array([mixup(images, labels, 3, alpha=8.0, rng=s).lam for s in range(400)])
    assert abs(lams.mean() - 0.5) < 0.05 and lams.std() < 0.2


def test_mix_batch_switches_and_passes_through():
    images, labels = _batch("numpy")
    none = mix_batch(images, labels, 3, rng=0)
    assert none.kind == "none" and none.lam == 1.0 and none.images is images
    kinds = {mix_batch(images, labels, 3, mixup_alpha=1.0, cutmix_alpha=1.0, rng=s).kind for s in range(20)}
    assert kinds == {"mixup", "cutmix"}


def test_describe_mix_names_both_classes():
    images, labels = _batch("numpy")
    out = mixup(images, labels, 3, alpha=1.0, rng=2)
    text = describe_mix(out, 0, ["cat", "dog", "fox"])
    i = int(out.partner[0])
    if labels[i] != labels[0]:
        assert text == " + ".join(f"{w:.2f} {n}" for w, n in sorted(
            [(out.lam, ["cat", "dog", "fox"][labels[0]]), (1 - out.lam, ["cat", "dog", "fox"][labels[i]])], key=lambda t: -t[0]))
    assert describe_mix(mix_batch(images, labels, 3, rng=0), 1, ["cat", "dog", "fox"]) == "1.00 dog"


def test_bad_arguments_are_refused():
    images, labels = _batch("numpy")
    with pytest.raises(ValueError):
        mixup(images, labels, 3, alpha=0.0, rng=0)
    with pytest.raises(ValueError):
        cutmix(images, labels[:3], 3, alpha=1.0, rng=0)


@pytest.mark.parametrize("method", ["MixUp", "CutMix"])
@pytest.mark.parametrize("alpha", [0.1, 0.4, 1.0])
def test_real_mix_seed_gives_a_draw_that_visibly_mixes(method, alpha):
    from augment_core.pipelines import mix_preview, real_mix_seed

    images = [np.full((64, 64, 3), v, np.uint8) for v in (0, 255, 128)]
    for seed in (0, 42, 7):
        draw = real_mix_seed(method, alpha=alpha, seed=seed, count=3)
        assert draw >= seed
        tiles = mix_preview(images, ["a", "b", "c"], method, alpha=alpha, seed=draw)
        mixed = [[float(part.split()[0]) for part in t.caption.split(" + ")] for t in tiles]  # a tile may draw itself as partner
        assert any(len(w) == 2 and 0.15 <= min(w) <= 0.5 for w in mixed), [t.caption for t in tiles]
