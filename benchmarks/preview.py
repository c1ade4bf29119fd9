"""Preview speed: parameters in, encoded tiles out. Prints figures; asserts nothing about time.

Run: ``python -m benchmarks.preview``. Figures are medians over repeats on this machine; the
overhead ratio compares our call with calling albumentations directly on the same arrays, in the
same run, so machine noise cancels out.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

import augment_core  # noqa: F401
import albumentations as A
import numpy as np
from PIL import Image

from augment_core.transforms import catalog
from augment_core.transforms.images import PreviewCache, load_image
from augment_core.transforms.params import to_kwargs
from augment_core.transforms.preview import render_grid
from augment_core.transforms.samples import load_sample

TILES = 8
SEED = 42
TRANSFORMS = ("Rotate", "HorizontalFlip", "ColorJitter", "GaussNoise", "CoarseDropout", "RandomResizedCrop")


def median_ms(fn: Callable[[], object], repeats: int = 15) -> float:
    """Median wall time of ``fn`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def phone_photo() -> bytes:
    """A 12-megapixel (4000×3000) JPEG with EXIF orientation, like a phone's."""
    rng = np.random.default_rng(0)
    base = np.asarray(Image.fromarray(load_sample("Astronaut")).resize((4000, 3000)))
    noisy = np.clip(base.astype(np.int16) + rng.integers(-8, 8, base.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def interleaved_ms(fns: list[Callable[[], object]], repeats: int = 15) -> list[float]:
    """Median ms of each function, run in turn within every repeat so load changes hit all alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append((time.perf_counter() - start) * 1000)
    return [statistics.median(t) for t in times]


def grid_figures(image: np.ndarray) -> list[tuple[str, float, float, float]]:
    """(transform, ours with encoding ms, ours without encoding ms, direct albumentations ms)."""
    rows = []
    size = image.shape[:2]
    for name in TRANSFORMS:
        def ours() -> None:
            render_grid(catalog.create_transform(name, {}, image_size=size), [image], TILES, SEED)

        def ours_no_encode() -> None:
            render_grid(catalog.create_transform(name, {}, image_size=size), [image], TILES, SEED, encode=False)

        kwargs = to_kwargs(catalog.get_transform(name).params(size), {})

        def direct() -> list[np.ndarray]:
            # Like ours, keep all tiles: a grid needs them at once. (Discarding each output lets
            # the allocator hand the same pages back, which no real preview can do.)
            pipeline = A.Compose([getattr(A, name)(**kwargs, p=1.0)], seed=SEED)
            return [pipeline(image=image)["image"] for _ in range(TILES)]

        rows.append((name, *interleaved_ms([ours, ours_no_encode, direct])))
    return rows


def main() -> None:
    image = load_sample("Astronaut")  # 512 × 512
    print(f"Preview grid: {TILES} tiles of a {image.shape[1]}×{image.shape[0]} image, median of 15 runs\n")
    print(f"{'transform':<20}{'ours, encoded (ms)':>20}{'ours, no encode (ms)':>22}{'albumentations (ms)':>21}{'overhead ratio':>16}")
    rows = grid_figures(image)
    for name, encoded, plain, direct in rows:
        print(f"{name:<20}{encoded:>20.1f}{plain:>22.1f}{direct:>21.1f}{plain / direct:>16.2f}")
    total_plain = sum(r[2] for r in rows)
    total_direct = sum(r[3] for r in rows)
    print(f"{'all six':<20}{sum(r[1] for r in rows):>20.1f}{total_plain:>22.1f}{total_direct:>21.1f}{total_plain / total_direct:>16.2f}")

    data = phone_photo()
    first = median_ms(lambda: load_image(data, "phone.jpg", max_side=512), repeats=5)
    cache = PreviewCache()
    cached = median_ms(lambda: cache.get(data, "phone.jpg", 512), repeats=15)
    preview = load_image(data, "phone.jpg", max_side=512).array
    rotate = median_ms(lambda: render_grid(catalog.create_transform("Rotate"), [preview], TILES, SEED))
    print(f"\n12-megapixel JPEG upload ({len(data) / 1e6:.1f} MB, EXIF-rotated) -> {preview.shape[1]}×{preview.shape[0]} preview")
    print(f"  decode + orient + downscale, first time: {first:.1f} ms")
    print(f"  later reruns (cached by the upload's bytes): {cached:.2f} ms")
    print(f"  8-tile Rotate grid on the preview: {rotate:.1f} ms")

    pipeline_figures(image)


def pipeline_figures(image: np.ndarray) -> tuple[float, float]:
    """The 5-step pipeline (geometric + colour + noise + dropout), 8 tiles at 512 px; prints ms.

    Returns (ours with encoding, albumentations alone) medians in milliseconds.
    """
    from augment_core.pipelines import model as pl

    pipe = pl.Pipeline(seed=SEED)
    for name, args in (("HorizontalFlip", None), ("Affine", {"rotate": (-20, 20), "scale": (0.9, 1.1)}), ("ColorJitter", None),
                       ("GaussNoise", {"std_range": (0.02, 0.08)}), ("CoarseDropout", None)):
        pipe = pl.add_step(pipe, name, args, p=1.0)
    compose = pl.to_compose(pipe)
    ours, direct = interleaved_ms([lambda: render_grid(pl.to_compose(pipe), [image], TILES, SEED),
                                   lambda: [compose(image=image) for _ in range(TILES)]])
    print(f"\n5-step pipeline (HorizontalFlip, Affine, ColorJitter, GaussNoise, CoarseDropout), {TILES} tiles at "
          f"{image.shape[1]}×{image.shape[0]}: {ours:.1f} ms with JPEG encoding (albumentations alone {direct:.1f} ms)")
    return ours, direct


if __name__ == "__main__":
    main()
