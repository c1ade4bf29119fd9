"""Backbone registry: each entry knows how to build itself, its input size and normalisation.

``list_backbones()`` fills select boxes; ``create_backbone(name, generator=...)`` returns a
ready ``nn.Module`` (see :mod:`augment_core.experiment.models` for the interface).

Weights are never fetched unless the user picks a backbone that needs them:

* ``smallcnn-synthetic`` (default) ships in the repository (``weights/``), SHA-256 checked and
  loaded with ``torch.load(weights_only=True)``;
* ``resnet18-imagenet`` and ``mobilenetv3-imagenet`` are downloaded once into torch's hub
  cache (``TORCH_HOME``) from the ``AUGLAB_RESNET18_URL`` / ``AUGLAB_MOBILENET_URL`` settings by
  :func:`fetch_weights` (progress callback, SHA-256 prefix from the file name checked, cached,
  offline once cached);
* ``smallcnn-scratch`` is randomly initialised from the run's seed, a baseline that shows what
  pre-training buys.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from augment_core.errors import AugLabError
from augment_core.experiment.models import MobileNetV3Small, ResNet18, SmallCNN, init_weights
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
    url_setting: str = ""  # setting holding the download URL (downloading backbones only)
    download_mb: float = 0.0  # size of that download
    photo: bool = False  # pre-trained on natural photographs (proposed for photo uploads)


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


ProgressCallback = Callable[[int, int], None]  # (bytes received, total bytes or 0 when unknown)
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


def weights_url(name: str) -> str:
    """The URL a downloading backbone's weights come from (its setting, read now)."""
    info = get_backbone_info(name)
    if not info.url_setting:
        raise AugLabError(f"The backbone “{name}” does not download weights.", field="backbone")
    return get_setting(info.url_setting)


def weights_path(name: str) -> Path:
    """Where torch's hub cache (``TORCH_HOME``) keeps, or will keep, backbone ``name``'s weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urllib.parse.urlparse(weights_url(name)).path)


def resnet18_cache_path(url: str | None = None) -> Path:
    """Where the ResNet-18 checkpoint is (or will be) cached; kept for the lessons."""
    return weights_path("resnet18-imagenet") if url is None else Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def weights_cached(name: str) -> bool:
    """True when backbone ``name`` needs no download (embedded, random, or already in the cache)."""
    info = get_backbone_info(name)
    return not info.downloads or weights_path(name).exists()


def _expected_prefix(url: str, title: str) -> str:
    match = _HASH_IN_NAME.search(os.path.basename(urllib.parse.urlparse(url).path))
    if match is None:
        raise AugLabError(f"The {title} URL {url} does not end in -<sha256 prefix>.pth, so its file cannot be checked.",
                          hint="Use the official file name, which carries the start of its SHA-256.", field="backbone")
    return match.group(1)


def fetch_weights(name: str, *, progress: ProgressCallback | None = None) -> Path:
    """Download backbone ``name``'s weights once (SHA-256 checked) and return the cached file.

    A cached file is checked again and used without any network, so a backbone works offline
    once fetched. ``progress`` is called as chunks arrive (pages draw a progress bar from it).

    Raises:
        AugLabError: No network (with what still works offline), a checksum mismatch (the
            partial file is deleted), or a URL without a hash in its file name.
    """
    info = get_backbone_info(name)
    url = weights_url(name)
    title = info.title.split(",")[0]
    prefix = _expected_prefix(url, title)
    path = weights_path(name)
    if path.exists():
        if not sha256_of(path).startswith(prefix):
            raise AugLabError(f"The cached {title} weights at {path} do not match their checksum.",
                              hint=f"Delete {path} and download again.", field="backbone")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:  # noqa: S310 - http(s)/file URL from settings
            total = int(response.headers.get("Content-Length") or 0)
            received = 0
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise AugLabError(f"Could not download the {title} weights from {url} ({exc}).",
                          hint="Without a network, pick the embedded small CNN: it needs no download. Once downloaded, "
                               f"the file is kept at {path} and works offline.", field="backbone") from exc
    if not digest.hexdigest().startswith(prefix):
        partial.unlink(missing_ok=True)
        raise AugLabError(f"The downloaded {title} weights failed their check (SHA-256 {digest.hexdigest()[:12]}…, "
                          f"expected {prefix}…).", hint="The file was deleted; try again, or check the URL setting.", field="backbone")
    os.replace(partial, path)
    return path


def _imagenet(name: str, model_class: type[nn.Module], drop: str) -> Callable[[torch.Generator], nn.Module]:
    """Builder that loads torchvision-named ImageNet weights (minus the ``drop`` classifier) into ``model_class``."""

    def build(generator: torch.Generator) -> nn.Module:
        path = fetch_weights(name)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem for the user
            raise AugLabError(f"The {name} weights file {path} cannot be read ({exc}).",
                              hint=f"Delete {path} and download again.", field="backbone") from exc
        model = model_class()
        state = {k: v for k, v in state.items() if not k.startswith(drop)}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise AugLabError(f"The {name} checkpoint does not have torchvision's parameter names.",
                              hint=f"Missing {missing[:3]}, unexpected {unexpected[:3]}.", field="backbone")
        return model

    return build


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
    "plain torch with the same parameter names (11.2 M parameters without the classifier). Downloaded on first "
    "use into torch's hub cache, SHA-256 checked, then used offline.",
    224, IMAGENET_MEAN, IMAGENET_STD, True, _imagenet("resnet18-imagenet", ResNet18, "fc."),
    "AUGLAB_RESNET18_URL", 44.7, True))
register_backbone(BackboneInfo(
    "mobilenetv3-imagenet", "MobileNetV3-Small, ImageNet (downloads 10 MB once; fastest on a CPU)",
    "torchvision's MobileNetV3-Small trained on ImageNet-1k (1.28 M natural photos, 1000 classes; 67.7% top-1), "
    "re-implemented in plain torch with the same parameter names (0.93 M parameters without the classifier). "
    "Downloaded on first use into torch's hub cache, SHA-256 checked, then used offline.",
    224, IMAGENET_MEAN, IMAGENET_STD, True, _imagenet("mobilenetv3-imagenet", MobileNetV3Small, "classifier."),
    "AUGLAB_MOBILENET_URL", 9.8, True))
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
