"""Plain-data records an experiment produces: what callbacks receive and what the store keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from augment_core.experiment.spec import ExperimentSpec


@dataclass(frozen=True)
class EpochRecord:
    """Metrics of one epoch of one arm of one replicate (the ``on_epoch`` payload)."""

    arm: str  # "plain" or "augmented"
    replicate: int  # 0-based seed (or fold) number
    seed: int  # seed used by this replicate
    epoch: int  # 1-based
    train_loss: float  # mean loss over the epoch's training images (as trained: augmented/mixed)
    train_acc: float  # accuracy on those training images, 0-1
    val_loss: float  # cross-entropy on the (never augmented) validation set
    val_acc: float  # accuracy on the validation set, 0-1
    lr: float  # head learning rate at the end of the epoch
    seconds: float  # wall time of the epoch's training steps (excludes evaluation)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass(frozen=True)
class BatchProgress:
    """Progress after one training step (the ``on_batch`` payload)."""

    arm: str  # "plain" or "augmented"
    replicate: int  # 0-based
    epoch: int  # 1-based
    batch: int  # 1-based step within the epoch
    batches: int  # steps per epoch
    loss: float  # this step's training loss
    fraction: float  # share of the whole experiment done, 0-1 (for a progress bar)
    eta_s: float | None = None  # seconds left at the measured recent pace (None until it can be measured)
    busy: bool = False  # other work shared the CPU when this step ended (the time left then moves with it)


@dataclass(frozen=True)
class FinalEvaluation:
    """End-of-training analysis of one arm of one replicate."""

    arm: str  # "plain" or "augmented"
    replicate: int  # 0-based
    seed: int  # seed used
    val_acc: float  # final validation accuracy (last epoch, never the best: no peeking)
    confusion: list[list[int]]  # confusion[true][predicted] counts
    per_class_acc: list[float]  # recall of each class, 0-1 (nan for a class absent from validation)
    misclassified: list[dict[str, int]]  # [{"index": dataset index, "true": label, "predicted": label}]
    val_indices: list[int]  # dataset indices of the validation images, in evaluation order

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass
class ExperimentResult:
    """Everything a run produced. ``status`` is "completed", "cancelled" or "failed"."""

    spec: ExperimentSpec  # what was run
    status: str = "running"  # running, completed, cancelled or failed
    message: str = ""  # why a run failed or was cancelled (empty when completed)
    run_id: int | None = None  # id in the store, when one was given
    class_names: tuple[str, ...] = ()  # label index -> name
    dataset_fingerprint: str = ""  # SHA-256 of the data actually used
    epochs: list[EpochRecord] = field(default_factory=list)  # every finished epoch, in order
    finals: list[FinalEvaluation] = field(default_factory=list)  # per arm and replicate that finished
    analysis: dict[str, Any] = field(default_factory=dict)  # stats.analyse output: curves and comparison
    started_at: str = ""  # ISO-8601 UTC
    finished_at: str = ""  # ISO-8601 UTC
    versions: dict[str, str] = field(default_factory=dict)  # library versions
    seconds: float = 0.0  # wall time

    @property
    def comparison(self) -> dict[str, Any] | None:
        """The paired comparison (``stats.Comparison`` as a dict), if any replicate finished."""
        return self.analysis.get("comparison")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the export format)."""
        return {"spec": self.spec.to_dict(), "status": self.status, "message": self.message, "run_id": self.run_id,
                "class_names": list(self.class_names), "dataset_fingerprint": self.dataset_fingerprint,
                "epochs": [e.to_dict() for e in self.epochs], "finals": [f.to_dict() for f in self.finals],
                "analysis": self.analysis, "started_at": self.started_at, "finished_at": self.finished_at,
                "versions": dict(self.versions), "seconds": self.seconds}
