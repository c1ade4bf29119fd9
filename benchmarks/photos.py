"""Benchmark photo-sized experiments on a CPU: the frozen-feature cache, ResNet-18 vs MobileNetV3-Small.

A 3-seed comparison (both arms) on 200 real-photo crops in 2 classes (``tests/photos.py``:
crops of scikit-image's ``chelsea`` and ``coffee``) at 112 px, strategy "last block + head",
2 epochs, the photo pipeline, for each ImageNet backbone with random weights (timing does not
depend on the weights; they are served from a local file:// URL through the real download
path, so nothing is fetched), with the plain arm's frozen features cached (the default) and
recomputed every step (``AUGLAB_FEATURE_CACHE_MB=0``). Prints wall times; asserts nothing.

Run: ``python benchmarks/photos.py`` (a few minutes on two cores), or one backbone:
``python benchmarks/photos.py --backbone mobilenetv3-imagenet``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from augment_core.experiment import PHOTO_PIPELINE, ExperimentSpec, run_experiment  # noqa: E402
from augment_core.experiment.models import MobileNetV3Small, ResNet18, init_weights  # noqa: E402
from augment_core.experiment.runner import configure_threads  # noqa: E402
from augment_core.experiment.userdata import load_zip  # noqa: E402
from tests.photos import photo_zip  # noqa: E402

BACKBONES = {"resnet18-imagenet": (ResNet18, "resnet18", "AUGLAB_RESNET18_URL"),
             "mobilenetv3-imagenet": (MobileNetV3Small, "mobilenet_v3_small", "AUGLAB_MOBILENET_URL")}


def serve_random_weights(folder: Path) -> None:
    """Random-weight checkpoints with torchvision's names, behind file:// URLs; a fresh hub cache."""
    os.environ["TORCH_HOME"] = str(folder / "torch_home")
    for model_class, stem, setting in BACKBONES.values():
        model = model_class()
        init_weights(model, torch.Generator().manual_seed(0))
        raw = folder / f"{stem}.raw"
        torch.save(model.state_dict(), raw)
        served = folder / f"{stem}-{hashlib.sha256(raw.read_bytes()).hexdigest()[:8]}.pth"
        raw.rename(served)
        os.environ[setting] = served.as_uri()


def main(argv: list[str] | None = None) -> None:
    """Print the wall time of each (backbone, cache) combination, with the load average before and after."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", choices=list(BACKBONES), action="append",
                        help="measure only this backbone (repeatable; default: all)")
    chosen = parser.parse_args(argv).backbone or list(BACKBONES)
    threads = configure_threads()
    dataset, _ = load_zip(photo_zip(100, seed=0), image_size=112)
    print(f"{len(dataset.labels)} photos, 2 classes, 112 px; torch threads {threads}; "
          "the machine's 2 cores are shared with other work, so figures vary run to run")
    with tempfile.TemporaryDirectory() as tmp:
        serve_random_weights(Path(tmp))
        for backbone in chosen:
            spec = ExperimentSpec(name="bench", dataset="photos.zip", image_size=112, backbone=backbone, strategy="last_block",
                                  epochs=2, seeds=3, batch_size=16, val_fraction=0.3, pipeline=PHOTO_PIPELINE)
            warm_up = {**spec.to_dict(), "epochs": 1, "seeds": 1, "train_per_class": 8}
            run_experiment(ExperimentSpec(**warm_up), dataset=dataset)  # download, worker start-up, allocator
            for label, budget in (("recomputed every step", "0"), ("cached once per seed", "1024")):
                os.environ["AUGLAB_FEATURE_CACHE_MB"] = budget
                load_before = os.getloadavg()[0]
                tic = time.perf_counter()
                result = run_experiment(spec, dataset=dataset)
                seconds = time.perf_counter() - tic
                load = os.getloadavg()[0]
                plain = sum(e.seconds for e in result.epochs if e.arm == "plain")
                augmented = sum(e.seconds for e in result.epochs if e.arm == "augmented")
                print(f"{backbone:<22} plain features {label:<22} total {seconds:6.1f} s  "
                      f"(training steps: plain arm {plain:5.1f} s, augmented arm {augmented:5.1f} s)  {result.status}; "
                      f"load average {load_before:.1f} before, {load:.1f} after")
        os.environ.pop("AUGLAB_FEATURE_CACHE_MB", None)


if __name__ == "__main__":
    main()
