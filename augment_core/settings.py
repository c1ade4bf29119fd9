"""Settings: one table of (name, default, help), read from the environment.

Every setting is documented in the README (a test checks it). Values are read when asked for,
so tests can change the environment with ``monkeypatch.setenv``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One configurable value."""

    name: str  # environment variable
    default: str  # default, as text
    help: str  # one line for the README


SETTINGS: tuple[Setting, ...] = (
    Setting("AUGLAB_DATA_DIR", "~/.augmentation_lab", "Folder for the run database and cached files."),
    Setting("AUGLAB_MAX_PIXELS", "50000000", "Largest image (width × height) that is decoded; bigger files are refused before decoding."),
    Setting("AUGLAB_PREVIEW_SIZE", "512", "Longest side, in pixels, that images are downscaled to for previews."),
    Setting("AUGLAB_PREVIEW_TILE_SIZE", "320", "Longest side, in pixels, of each preview tile as sent to the browser (tiles are augmented at the preview size, then shrunk to this for display); 0 sends them at the preview size."),
    Setting("AUGLAB_PREVIEW_FIRST_MS", "2000", "A Playground grid estimated (from one small timed tile) to take longer than this many milliseconds is drawn smaller or with fewer tiles first, with a button for the full grid."),
    Setting("AUGLAB_PREVIEW_TRACE", "", "File to which the Playground appends one JSON line of server timings per preview (used by benchmarks/preview_browser.py); empty means off."),
    Setting("AUGLAB_WORKERS", "1", "Worker processes the app starts with it (and stops with it); each trains one queued run at a time. 0 starts none (run `python -m augment_core.worker` yourself)."),
    Setting("AUGLAB_WORKER_NICE", "10", "Niceness a training worker process adds to itself (0-19): on a shared machine the web server and live previews get the CPU first, and training takes what is left. 0 keeps the normal priority."),
    Setting("AUGLAB_MAX_QUEUED", "20", "Runs that may wait in the queue at once; starting another is refused with a message until one starts."),
    Setting("AUGLAB_HEARTBEAT_SECONDS", "2", "How often a worker writes its heartbeat and progress, and reads the cancel flag."),
    Setting("AUGLAB_STALE_SECONDS", "30", "A running run whose worker has not written a heartbeat for this long (killed, lost) is marked failed; its finished epochs are kept."),
    Setting("AUGLAB_UPLOAD_KEEP_HOURS", "24", "Saved uploads that no stored run refers to are deleted once they are this old."),
    Setting("AUGLAB_RAY_ADDRESS", "", "Ray cluster the workers send each run's replicates to as Ray tasks (auto, host:port or ray://host:10001); empty trains in the worker process. Needs requirements-ray.txt."),
    Setting("AUGLAB_DEVICE", "auto", "Where training runs: auto (CUDA when torch.cuda.is_available(), else the CPU), cpu, or cuda (refused with a message where CUDA is not available). Recorded with each run."),
    Setting("AUGLAB_TORCH_THREADS", "0", "Threads torch may use for training; 0 means all CPU cores."),
    Setting("AUGLAB_RESNET18_URL", "https://download.pytorch.org/models/resnet18-f37072fd.pth", "Where the ImageNet ResNet-18 checkpoint is downloaded from on first use (its file name must end in -<sha256 prefix>.pth; the hash is checked)."),
    Setting("AUGLAB_MOBILENET_URL", "https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth", "Where the ImageNet MobileNetV3-Small checkpoint is downloaded from on first use (file name must end in -<sha256 prefix>.pth; the hash is checked)."),
    Setting("AUGLAB_FEATURE_CACHE_MB", "1024", "Most memory, in MB, the plain arm's cached frozen-layer features may take per seed; above it they are recomputed every step."),
    Setting("AUGLAB_ZIP_MAX_BYTES", "1000000000", "Largest total uncompressed size, in bytes, of an uploaded zip data set; checked before extracting."),
    Setting("AUGLAB_PIPELINE_MAX_STEPS", "100", "Most steps (group members included) an imported pipeline file or a share link may hold; more is refused before anything is built."),
    Setting("AUGLAB_LINK_MAX_CHARS", "8000", "Longest share-link parameter (``?pipeline=``), in characters, that is decoded."),
    Setting("AUGLAB_LINK_MAX_SAMPLES", "8", "Most built-in images a ``?samples=`` link may name; repeats are loaded once, extra names are dropped with a note."),
    Setting("AUGLAB_PREVIEW_WORKERS", "2", "Worker processes that run previews and augmentation calls away from the server, so one can be stopped; 0 runs them in the server (no time limit)."),
    Setting("AUGLAB_PREVIEW_TIMEOUT_S", "10", "Wall-clock limit, in seconds, of one preview (waiting for a free worker included); a worker that runs past it is killed and replaced, and the page says so."),
    Setting("AUGLAB_PREVIEW_MAX_MB", "3072", "Address-space cap, in MiB, of each preview worker: a preview that asks for more fails with a message instead of growing the server."),
    Setting("AUGLAB_MAX_EPOCHS", "500", "Most epochs an experiment may ask for (form, links, CLI specs)."),
    Setting("AUGLAB_MAX_EPOCH_REPEATS", "50", "Most passes over the training set per epoch an experiment may ask for."),
    Setting("AUGLAB_MAX_SEEDS", "20", "Most seeds (or folds) an experiment may repeat."),
    Setting("AUGLAB_MAX_BATCH_SIZE", "512", "Largest training batch an experiment may ask for."),
    Setting("AUGLAB_MAX_PER_CLASS", "10000", "Most images per class a built-in data set may generate, and the most training images per class a spec may keep."),
    Setting("AUGLAB_MAX_DATA_BYTES", "2000000000", "Memory budget, in bytes, for one experiment's images as float tensors (images × 3 × size² × 4); a bigger data set or image size is refused before loading."),
    Setting("AUGLAB_DATA_CACHE_BYTES", "1000000000", "Most memory, in bytes, the pages keep of data sets between reruns (the Experiment form's prepared sets, stored runs' images), over all sessions; the least recently used go first."),
    Setting("AUGLAB_FEATURE_BATCH_PIXELS", "1048576", "Pixels per batch when the frozen part of a model computes validation features (256 images of 64×64); bigger images go in smaller batches."),
    Setting("AUGLAB_EVAL_BATCH_VALUES", "8388608", "Feature values (floats) per batch when a model is evaluated on the validation set (never more than 512 images); bigger images go in smaller batches, so evaluation memory stays bounded."),
    Setting("AUGLAB_SEARCH_MAX_MINUTES", "60", "Longest time budget, in minutes, a search may ask for (Search page and CLI); checked before it starts."),
    Setting("AUGLAB_ZIP_MAX_FILES", "20000", "Most entries an uploaded zip data set may contain; checked before extracting."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get_setting(name: str) -> str:
    """Return the current value of setting ``name`` (environment first, then the default)."""
    return os.environ.get(name, _BY_NAME[name].default)


def get_int(name: str) -> int:
    """Return setting ``name`` as an integer."""
    return int(get_setting(name))


def data_dir() -> Path:
    """Return the data folder (created if needed)."""
    path = Path(get_setting("AUGLAB_DATA_DIR")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
