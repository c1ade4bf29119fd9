"""Backbone registry: each entry knows how to build itself, its input size and normalisation.

``list_backbones()`` fills select boxes; ``create_backbone(name, generator=...)`` returns a
ready ``nn.Module`` (see :mod:`augment_core.experiment.models` for the interface).

Weights are never fetched unless the user picks a backbone that needs them:

* ``smallcnn-synthetic`` (default) ships in the repository (``weights/``), SHA-256 checked and
  loaded with ``torch.load(weights_only=True)``;
* ``resnet18-imagenet`` is downloaded once into torch's hub cache (``TORCH_HOME``) from the
  ``AUGLAB_RESNET18_URL`` setting, with the hash embedded in the file name checked;
* ``smallcnn-scratch`` is randomly initialised from the run's seed, a baseline that shows what
  pre-training buys.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from augment_core.errors import AugLabError
from augment_core.experiment.models import ResNet18, SmallCNN, init_weights
from augment_core.settings import get_setting

WEIGHTS_DIR = Path(__file__).parent / "weights"
SMALLCNN_WEIGHTS = WEIGHTS_DIR / "smallcnn_contours32.pt"
# Printed by scripts/pretrain_backbone.py; update both together.
SMALLCNN_SHA256 = "dce0291e1c065349ff090f784b486319eb5ac02a1c63c59fd38187b8ca8c1c27"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SYNTHETIC_MEAN = (0.5, 0.5, 0.5)
SYNTHETIC_STD = (0.25, 0.25, 0.25)


@dataclass(frozen=True)
class BackboneInfo:
    """One registered backbone."""

    name: str  # registry key
    title: str  # short label for select boxes
    description: str  # what it is and exactly what it was pre-trained on
    input_size: int  # side, in pixels, it was trained at (any size >= 32 works)
    mean: tuple[float, float, float]  # per-channel normalisation mean (RGB, 0..1 scale)
    std: tuple[float, float, float]  # per-channel normalisation std
    downloads: bool  # True when first use fetches weights from the internet
    build: Callable[[torch.Generator], nn.Module]  # makes the module; generator seeds random init


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_checked_state_dict(path: Path, sha256: str) -> dict[str, torch.Tensor]:
    """Load a state dict after checking the file's SHA-256; refuse anything else."""
    if not path.exists():
        raise AugLabError(f"The embedded weights file {path.name} is missing.",
                          hint="Reinstall the app or rerun scripts/pretrain_backbone.py.", field="backbone")
    actual = sha256_of(path)
    if actual != sha256:
        raise AugLabError(f"The embedded weights file {path.name} does not match its checksum.",
                          hint="Restore it from the repository or rerun scripts/pretrain_backbone.py.", field="backbone")
    return torch.load(path, map_location="cpu", weights_only=True)


def _smallcnn_pretrained(generator: torch.Generator) -> nn.Module:
    model = SmallCNN()
    model.load_state_dict(load_checked_state_dict(SMALLCNN_WEIGHTS, SMALLCNN_SHA256))
    return model


def _smallcnn_scratch(generator: torch.Generator) -> nn.Module:
    model = SmallCNN()
    init_weights(model, generator)
    return model


def resnet18_cache_path(url: str | None = None) -> Path:
    """Where torch's hub cache keeps (or will keep) the ResNet-18 checkpoint."""
    url = url or get_setting("AUGLAB_RESNET18_URL")
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _resnet18_imagenet(generator: torch.Generator) -> nn.Module:
    url = get_setting("AUGLAB_RESNET18_URL")
    try:
        state = torch.hub.load_state_dict_from_url(url, map_location="cpu", check_hash=True,
                                                   progress=False, weights_only=True)
    except (urllib.error.URLError, OSError) as exc:
        raise AugLabError(f"Could not download the ResNet-18 weights from {url} ({exc}).",
                          hint="Check the internet connection, or pick the embedded small CNN.", field="backbone") from exc
    except RuntimeError as exc:  # hash mismatch or unreadable file
        raise AugLabError(f"The downloaded ResNet-18 weights failed their check ({exc}).",
                          hint=f"Delete {resnet18_cache_path(url)} and try again.", field="backbone") from exc
    model = ResNet18()
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise AugLabError("The ResNet-18 checkpoint does not have torchvision's parameter names.",
                          hint=f"Missing {missing[:3]}, unexpected {unexpected[:3]}.", field="backbone")
    return model


_REGISTRY: dict[str, BackboneInfo] = {}


def register_backbone(info: BackboneInfo) -> BackboneInfo:
    """Add ``info`` to the registry (names are unique)."""
    if info.name in _REGISTRY:
        raise ValueError(f"backbone {info.name!r} is already registered")
    _REGISTRY[info.name] = info
    return info


register_backbone(BackboneInfo(
    "smallcnn-synthetic", "Small CNN, pre-trained on synthetic contours (embedded)",
    "A 0.66 M-parameter CNN shipped with the app (2.7 MB). Pre-trained by scripts/pretrain_backbone.py "
    "(seed 0, 25 epochs, 93% held-out accuracy) to tell apart 24 classes of random smooth closed curves (a few Fourier harmonics each), drawn "
    "at 32x32 with random position, rotation, scale, colours, gradient background and noise: formula-driven "
    "images in the spirit of FractalDB. It has never seen the shapes, digits or any natural photo.",
    32, SYNTHETIC_MEAN, SYNTHETIC_STD, False, _smallcnn_pretrained))
register_backbone(BackboneInfo(
    "resnet18-imagenet", "ResNet-18, ImageNet (downloads 45 MB once)",
    "torchvision's ResNet-18 trained on ImageNet-1k (1.28 M natural photos, 1000 classes), re-implemented in "
    "plain torch with the same parameter names. Downloaded on first use into torch's hub cache, hash checked.",
    224, IMAGENET_MEAN, IMAGENET_STD, True, _resnet18_imagenet))
register_backbone(BackboneInfo(
    "smallcnn-scratch", "Small CNN, from scratch (no pre-training)",
    "The same small CNN with random weights drawn from the run's seed: a baseline that shows what "
    "pre-training buys.",
    32, SYNTHETIC_MEAN, SYNTHETIC_STD, False, _smallcnn_scratch))

DEFAULT_BACKBONE = "smallcnn-synthetic"


def list_backbones() -> list[str]:
    """Names of every registered backbone, default first."""
    return list(_REGISTRY)


def get_backbone_info(name: str) -> BackboneInfo:
    """Return the registry entry for ``name`` or raise :class:`AugLabError`."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise AugLabError(f"Unknown backbone “{name}”.", hint=f"Choose one of: {', '.join(_REGISTRY)}.",
                          field="backbone") from None


def create_backbone(name: str, *, generator: torch.Generator | None = None) -> nn.Module:
    """Build backbone ``name``; ``generator`` seeds any random initialisation (default seed 0)."""
    info = get_backbone_info(name)
    return info.build(generator if generator is not None else torch.Generator().manual_seed(0))
