"""Take a trained model away: keep each arm's model, try it on a new image, export ONNX and TorchScript.

The runner keeps both arms' models of the first seed (:func:`save_trained`, one ``.pt`` state
file per arm under ``<AUGLAB_DATA_DIR>/models/``). :func:`load_trained` rebuilds one as a
:class:`TrainedModel` whose module takes RGB images scaled to 0..1, ``(B, 3, S, S)`` float32,
and returns logits: the backbone's normalisation is inside it, so an exported file needs
nothing but a resize. :func:`export_bundle` zips the ONNX model (checked against torch with
onnxruntime at export time), the TorchScript model, ``model.json`` (label names, input size,
how images are made square, normalisation, the augmentation pipeline JSON) and ``predict.py``.

Example:
    >>> trained = load_trained(RunStore().load_run(run_id), "augmented")
    >>> predict(trained, open("photo.jpg", "rb").read())[:2]
    [('cat', 0.93), ('coffee', 0.07)]
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from augment_core.errors import AugLabError
from augment_core.experiment.backbones import get_backbone_info
from augment_core.experiment.store import kept_model_file
from augment_core.experiment.training import SplitModel, apply_strategy, build_classifier
from augment_core.experiment.userdata import square_resize
from augment_core.transforms.images import load_image

if TYPE_CHECKING:
    from augment_core.experiment.results import ExperimentResult

ONNX_OPSET = 17
PREDICT_SCRIPT = '''"""Classify one image with the exported model: python predict.py photo.jpg"""
import json, sys
import numpy as np, onnxruntime as ort
from PIL import Image

meta = json.load(open("model.json"))
size, image = meta["input"]["size"], Image.open(sys.argv[1]).convert("RGB")
scale = size / max(image.size)  # square "pad" (the default; model.json says which): the whole picture, mean-colour border
image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
canvas = Image.new("RGB", (size, size), tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(0).round()))
canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
x = (np.asarray(canvas, dtype=np.float32) / 255).transpose(2, 0, 1)[None]  # (1, 3, S, S) in 0..1
logits = ort.InferenceSession("model.onnx").run(None, {"image": x})[0][0]
probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
print(json.dumps({meta["labels"][i]: round(float(probs[i]), 4) for i in np.argsort(-probs)}))
'''


class Deployable(nn.Module):
    """A trained arm as one module: (B, 3, S, S) RGB in 0..1 -> (B, classes) logits, normalisation inside."""

    def __init__(self, model: SplitModel, mean: tuple[float, float, float], std: tuple[float, float, float]) -> None:
        super().__init__()
        self.prefix, self.body = model.prefix, model.body
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) float in 0..1 -> (B, classes) logits."""
        return self.body(self.prefix((x - self.mean) / self.std))


@dataclass(frozen=True)
class TrainedModel:
    """One arm's trained model and what it needs to be used."""

    module: Deployable  # eval mode
    arm: str  # "plain" or "augmented"
    class_names: tuple[str, ...]  # output index -> label
    image_size: int  # input side, pixels
    square: str  # how images are made square before the resize (userdata.SQUARE_MODES)
    mean: tuple[float, float, float]  # normalisation applied inside the module
    std: tuple[float, float, float]
    metadata: dict[str, Any]  # model.json contents


def model_file(run_id: int, arm: str) -> Path:
    """Where run ``run_id``'s ``arm`` model is kept (the store owns the place and deletes it with the run)."""
    return kept_model_file(run_id, arm)


def save_trained(run_id: int, arm: str, model: SplitModel) -> Path:
    """Keep ``model``'s weights (prefix and body) for trying and exporting later."""
    path = model_file(run_id, arm)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


def trained_arms(result: ExperimentResult) -> list[str]:
    """The arms of ``result`` whose trained model was kept (empty for unstored or older runs)."""
    if result.run_id is None:
        return []
    return [arm for arm in ("plain", "augmented") if _kept_by(result, model_file(result.run_id, arm))]


def kept_model_version(result: ExperimentResult, arm: str) -> str:
    """Names the exact kept file of ``arm`` (path, size, time written): a cache key that changes when the file does.

    A cache keyed by run id alone serves one data folder's (or one database's) run 1 for another's.
    """
    path = model_file(int(result.run_id), arm)  # type: ignore[arg-type]
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{result.started_at}"


def _kept_by(result: ExperimentResult, path: Path) -> bool:
    """Whether ``path`` exists and was written by this run: not before it started.

    A run id can name another run's file when the database was replaced under a data folder whose
    ``models/`` survived (ids restart at 1), or when a requeued run has not yet finished its first seed.
    """
    try:
        written = path.stat().st_mtime
    except OSError:
        return False
    try:  # ISO-8601 to the second; "" for a run that has not started (queued, or requeued), which kept nothing
        started = datetime.fromisoformat(result.started_at)
    except ValueError:
        return False
    if started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return written >= started.timestamp()


def load_trained(result: ExperimentResult, arm: str) -> TrainedModel:
    """Rebuild ``arm``'s model of ``result`` (first seed) from its kept weights.

    Raises:
        AugLabError: The run kept no model for ``arm`` (not stored, stopped before the first seed
            finished, or older than this feature), or the file does not fit the run's settings.
    """
    if arm not in trained_arms(result):
        raise AugLabError(f"This run kept no trained model for the {arm} arm.",
                          hint="Models are kept for stored runs whose first seed finished; run it again to get one.", field="arm")
    spec = result.spec
    info = get_backbone_info(spec.backbone)
    model = apply_strategy(build_classifier(spec.backbone, len(result.class_names), seed=spec.seed), spec.strategy)
    try:
        model.load_state_dict(torch.load(model_file(int(result.run_id), arm), map_location="cpu", weights_only=True))  # type: ignore[arg-type]
    except (RuntimeError, OSError) as exc:
        raise AugLabError(f"The kept {arm} model does not fit this run's settings ({exc}).", field="arm") from exc
    module = Deployable(model, info.mean, info.std).eval()
    metadata = {"labels": list(result.class_names), "arm": arm, "backbone": spec.backbone, "strategy": spec.strategy,
                "input": {"size": spec.image_size, "layout": "NCHW float32 RGB scaled to 0..1", "square": spec.square,
                          "name": "image"},
                "normalisation": {"mean": list(info.mean), "std": list(info.std), "inside_model": True},
                "output": {"name": "logits", "layout": "(batch, classes), softmax for probabilities"},
                "pipeline": spec.pipeline, "run_id": result.run_id, "seed": spec.seed}
    return TrainedModel(module, arm, tuple(result.class_names), spec.image_size, spec.square, info.mean, info.std, metadata)


def prepare_image(trained: TrainedModel, data: bytes | np.ndarray, name: str = "image") -> torch.Tensor:
    """Decode (safely) and square an image the way the run's data were prepared: (1, 3, S, S) in 0..1."""
    array = data if isinstance(data, np.ndarray) else load_image(data, name).array
    square = square_resize(array, trained.image_size, trained.square)
    return torch.from_numpy(np.array(square, dtype=np.uint8)).permute(2, 0, 1).float().div(255.0)[None]


@torch.no_grad()
def predict(trained: TrainedModel, data: bytes | np.ndarray, *, top: int = 3, name: str = "image") -> list[tuple[str, float]]:
    """The ``top`` classes and their probabilities for one image (bytes of a file, or (H, W, 3) uint8)."""
    probs = torch.softmax(trained.module(prepare_image(trained, data, name)), dim=1)[0]
    order = torch.argsort(probs, descending=True)[:top]
    return [(trained.class_names[int(i)], float(probs[i])) for i in order]


def export_torchscript(trained: TrainedModel) -> bytes:
    """The model as a TorchScript file (``torch.jit.load`` it; input as :class:`Deployable`)."""
    example = torch.rand(1, 3, trained.image_size, trained.image_size, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    # TorchScript is deprecated in favour of torch.export, but it is what C++/mobile runtimes
    # load today; the warning says nothing the user can act on.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.trace(trained.module, example), buffer)
    return buffer.getvalue()


def export_onnx(trained: TrainedModel) -> bytes:
    """The model as ONNX (input ``image``, output ``logits``, dynamic batch), opset :data:`ONNX_OPSET`."""
    example = torch.rand(1, 3, trained.image_size, trained.image_size, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript-based exporter, see export_torchscript
        torch.onnx.export(trained.module, (example,), buffer, dynamo=False, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=ONNX_OPSET)
    return buffer.getvalue()


def onnx_difference(trained: TrainedModel, onnx_bytes: bytes, images: torch.Tensor | None = None) -> float:
    """Largest absolute logit difference between onnxruntime and torch on ``images`` (default: 4 seeded random)."""
    import onnxruntime as ort  # pinned in requirements.txt; imported here so the app starts without it

    if images is None:
        images = torch.rand(4, 3, trained.image_size, trained.image_size, generator=torch.Generator().manual_seed(1))
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    ours = session.run(None, {"image": images.numpy()})[0]
    with torch.no_grad():
        reference = trained.module(images).numpy()
    return float(np.abs(ours - reference).max())


def export_bundle(trained: TrainedModel) -> bytes:
    """A zip with ``model.onnx`` (checked with onnxruntime), ``model.torchscript.pt``, ``model.json`` and ``predict.py``.

    Raises:
        AugLabError: The ONNX model's outputs differ from torch's by more than 1e-3.
    """
    onnx_bytes = export_onnx(trained)
    diff = onnx_difference(trained, onnx_bytes)
    if diff > 1e-3:
        raise AugLabError(f"The ONNX export differs from the torch model by {diff:.2g}, so it is not offered.",
                          hint="Use the TorchScript file, or report this with the backbone's name.", field="export")
    metadata = {**trained.metadata, "checked": {"onnxruntime_max_abs_logit_difference": diff, "opset": ONNX_OPSET}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.onnx", onnx_bytes)
        archive.writestr("model.torchscript.pt", export_torchscript(trained))
        archive.writestr("model.json", json.dumps(metadata, indent=2))
        archive.writestr("predict.py", PREDICT_SCRIPT)
    return buffer.getvalue()
