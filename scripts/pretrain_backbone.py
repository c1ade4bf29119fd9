"""Pre-train the embedded small CNN on formula-driven synthetic contours; anyone can rerun it.

What it trains on: 24 classes of random smooth closed curves (each class one curve
r(θ) = 1 + Σ a_k cos(kθ + φ_k), fixed by seed 10_000 + class), 400 images per class rendered at
32x32 by :func:`augment_core.experiment.synthetic.make_contours` with random position, rotation,
scale, colours, gradient background and noise. No natural images, no digits, none of the six
``shapes`` classes. Everything is seeded (``--seed``, default 0), so a rerun on the same machine
should give the same weights (the SHA-256 can differ across CPUs and torch builds); it takes
about four minutes on two CPU cores.

Usage:
    python scripts/pretrain_backbone.py            # writes augment_core/experiment/weights/...
    python scripts/pretrain_backbone.py --out /tmp/w.pt --epochs 2

It prints the file's SHA-256: put it in ``SMALLCNN_SHA256`` in
``augment_core/experiment/backbones.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before anything else)
from augment_core.experiment.backbones import SMALLCNN_WEIGHTS, SYNTHETIC_MEAN, SYNTHETIC_STD, sha256_of
from augment_core.experiment.models import Classifier, SmallCNN, init_weights
from augment_core.experiment.synthetic import make_contours


def main() -> None:
    """Parse arguments, pre-train, save the backbone's state dict and print its SHA-256."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classes", type=int, default=24)
    parser.add_argument("--per-class", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=SMALLCNN_WEIGHTS)
    args = parser.parse_args()

    torch.set_num_threads(max(1, torch.get_num_threads()))
    start = time.perf_counter()
    images, labels = make_contours(args.classes, args.per_class, 32, seed=args.seed)
    val_images, val_labels = make_contours(args.classes, 25, 32, seed=args.seed + 1)
    mean = torch.tensor(SYNTHETIC_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(SYNTHETIC_STD).view(1, 3, 1, 1)

    def to_tensor(x):  # (N, H, W, 3) uint8 -> (N, 3, H, W) normalised float
        return (torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0 - mean) / std

    x, y = to_tensor(images), torch.from_numpy(labels)
    xv, yv = to_tensor(val_images), torch.from_numpy(val_labels)
    gen = torch.Generator().manual_seed(args.seed)
    model = Classifier(SmallCNN(), args.classes)
    init_weights(model, gen)
    steps_per_epoch = (len(x) + 127) // 128
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * 128:(i + 1) * 128]
            xb = x[idx]
            if torch.rand((), generator=gen) < 0.5:  # horizontal flips: contours have no handedness
                xb = xb.flip(3)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            acc = (model(xv).argmax(1) == yv).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {total / steps_per_epoch:.3f}  val acc {acc:.3f}  ({time.perf_counter() - start:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.clone() for k, v in model.backbone.state_dict().items()}, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    print(f"SHA-256 {sha256_of(args.out)}")


if __name__ == "__main__":
    main()
