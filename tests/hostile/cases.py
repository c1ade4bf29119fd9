"""The hostile corpus: inputs that once took the server down, each a generated fixture.

Every case is a function that feeds one hostile input through the path the app takes (the
importer, a share link, the zip loader, the spec, the preview executor) and returns a short
description of the bounded result. A refusal is an :class:`AugLabError`. Run one case in a
child process (``python -m tests.hostile.cases NAME``): it prints one JSON line with the outcome,
the message, the seconds it took and the child's peak memory (max RSS, MiB). ``run_case`` starts
that child under an address-space cap (``RLIMIT_AS``) and a time limit, so a regression fails
instead of taking the machine.

Figures vary with load: the machine these were written on has 2 cores shared with other work.
"""

from __future__ import annotations

import base64
import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One hostile input and its budget."""

    name: str  # id used on the command line and in the test
    run: Callable[[], str]  # feeds the input through the app's path; returns what it got
    expect: str  # "refused" (an AugLabError) or "bounded" (a result within budget)
    words: tuple[str, ...] = ()  # words the refusal message must contain (case-insensitive)
    memory_mib: int = 1500  # address-space cap of the child (virtual memory; torch needs more)
    seconds: float = 60.0  # wall-clock limit of the child, imports included
    env: tuple[tuple[str, str], ...] = ()  # settings for this case


# ---- fixtures -------------------------------------------------------------------------------

def billion_laughs_yaml() -> str:
    """432-ish bytes of nested YAML aliases that expand to 10^9 values."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("transform: {__class_fullname__: Compose, transforms: [{__class_fullname__: Blur, x: *a8}]}")
    return "\n".join(lines)


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_yaml(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_oneof(depth: int) -> str:
    """A OneOf inside a OneOf, ``depth`` times (written as text: json.dumps itself would recurse)."""
    head = '{"__class_fullname__": "OneOf", "transforms": [' * depth
    tail = "]}" * depth
    return '{"transform": {"__class_fullname__": "Compose", "transforms": [' + head + '{"__class_fullname__": "Blur"}' + tail + "]}}"


def step_file(name: str, **args: Any) -> str:
    return json.dumps({"transform": {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": name, "p": 1.0, **args}]}})


def raw_link(seed: int, entries: list[Any]) -> str:
    """A ``?pipeline=`` value built by hand, as a stranger could (no checks on the way)."""
    data = json.dumps([seed, entries], separators=(",", ":")).encode()
    return "1." + base64.urlsafe_b64encode(zlib.compress(data, 9)).decode().rstrip("=")


def png_bytes(width: int, height: int, mode: str = "L") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, (width, height), 0).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def zip_of(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _small_pngs() -> dict[str, bytes]:
    from PIL import Image

    files = {}
    for cls, colour in (("cats", 40), ("dogs", 200)):
        for i in range(3):
            buffer = io.BytesIO()
            Image.new("RGB", (16, 16), (colour, i * 30, 0)).save(buffer, format="PNG")
            files[f"{cls}/{i}.png"] = buffer.getvalue()
    return files


def _patch_zip(data: bytes, *, method: int | None = None, encrypted: bool = False, corrupt: bytes | None = None) -> bytes:
    """Rewrite header fields of the first entry (local and central), as another zip tool would."""
    raw = bytearray(data)
    central = raw.find(b"PK\x01\x02")
    if method is not None:
        raw[8:10] = method.to_bytes(2, "little")
        raw[central + 10:central + 12] = method.to_bytes(2, "little")
    if encrypted:
        raw[6] |= 1
        raw[central + 8] |= 1
    if corrupt is not None:
        at = raw.find(corrupt)
        raw[at] ^= 0xFF
    return bytes(raw)


# ---- the paths the app takes ----------------------------------------------------------------

def _import(text: str) -> str:
    from augment_core.pipelines import import_text

    pipe = import_text(text)
    return f"imported {len(pipe.items)} step(s)"


def _link(text: str) -> str:
    from augment_core.pipelines import decode_link

    pipe = decode_link(text)
    return f"decoded {len(pipe.items)} step(s)"


def _zip(data: bytes, image_size: int = 32) -> str:
    from augment_core.experiment import load_zip

    dataset, report = load_zip(data, image_size=image_size)
    return f"{len(dataset.images)} images, {len(report.skipped)} skipped"


def _spec(**fields: Any) -> str:
    from augment_core.experiment import ExperimentSpec

    ExperimentSpec(**fields)
    return "accepted"


def _playground_link(transform: str, param: str, text: str) -> str:
    from augment_core.transforms import catalog, parse_text_value

    spec = next(s for s in catalog.get_transform(transform).params() if s.name == param)
    try:
        value = parse_text_value(spec, text)
    except ValueError as exc:  # the page drops the value and says so
        from augment_core.errors import AugLabError

        raise AugLabError(f"refused: {exc}") from exc
    return f"accepted {value!r}"


def _samples_link() -> str:
    from augment_core.transforms import parse_sample_link

    names, _ = parse_sample_link(",".join(["Cat"] * 6000))
    assert names == ("Cat",), names
    return f"{len(names)} image(s) to load"


def _slow_preview() -> str:
    import numpy as np
    import albumentations as A

    from augment_core.transforms import render_grid_bounded

    # Past the sliders (the importer would refuse it): built directly, as a worst case that
    # slipped through would be. PiecewiseAffine 30×30 on 512² × 24 tiles takes minutes.
    image = np.random.default_rng(0).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    slow = A.Compose([A.PiecewiseAffine(nb_rows=30, nb_cols=30, p=1.0)])
    render_grid_bounded(slow, [image], n=24, seed=0)
    return "finished"


def _cli_folder() -> str:
    from augment_core.experiment import ExperimentSpec, load_dataset

    load_dataset(ExperimentSpec(dataset="/etc"))
    return "loaded"


def _prefix_features_512() -> str:
    import torch

    from augment_core.experiment.training import SplitModel, prefix_features

    # A prefix whose activations are 64 channels at full resolution: 64 MiB per 512² image.
    # In one piece 48 images would take 3 GiB of activations (past the cap: MemoryError);
    # in pixel-bounded batches (4 images at 512²) about 256 MiB is alive at once.
    prefix = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    model = SplitModel(prefix, torch.nn.Sequential(), [])
    images = torch.zeros(48, 3, 512, 512, dtype=torch.float32)
    features = prefix_features(model, images)
    return f"features {tuple(features.shape)}"


CASES: dict[str, Case] = {c.name: c for c in [
    Case("yaml_billion_laughs", lambda: _import(billion_laughs_yaml()), "refused", ("expands",)),
    Case("json_nested_100000", lambda: _import(deep_json(100_000)), "refused", ("nested",)),
    Case("yaml_nested_10000", lambda: _import(deep_yaml(10_000)), "refused", ("nested",)),
    Case("oneof_nested_1000", lambda: _import(nested_oneof(1000)), "refused", ("nested",)),
    Case("json_infinity", lambda: _import(step_file("Rotate").replace('"p": 1.0', '"p": 1.0, "limit": [-Infinity, Infinity]')), "refused", ("finite",)),
    Case("yaml_inf", lambda: _import("transform: {__class_fullname__: Compose, transforms: [{__class_fullname__: Rotate, limit: [-.inf, .inf]}]}"), "refused", ("finite",)),
    Case("strict_false", lambda: _import(step_file("Rotate", strict=False, unknown_arg=1)), "refused", ("strict",)),
    Case("file_gaussblur_99999", lambda: _import(step_file("GaussianBlur", blur_limit=[3, 99999])), "refused", ("blur_limit", "99999", "31")),
    Case("file_coarse_dropout_million_holes", lambda: _import(step_file("CoarseDropout", num_holes_range=[1, 1_000_000])), "refused", ("num_holes_range",)),
    Case("file_defocus_radius_1e5", lambda: _import(step_file("Defocus", radius=[3, 100_000])), "refused", ("radius",)),
    Case("file_median_blur_99999", lambda: _import(step_file("MedianBlur", blur_limit=[3, 99999])), "refused", ("blur_limit",)),
    Case("file_grid_shuffle_1000", lambda: _import(step_file("RandomGridShuffle", grid=[1000, 1000])), "refused", ("grid",)),
    Case("file_piecewise_affine_1000", lambda: _import(step_file("PiecewiseAffine", nb_rows=[1000, 1000], nb_cols=[1000, 1000])), "refused", ("nb_",)),
    Case("file_shadows_million", lambda: _import(step_file("RandomShadow", num_shadows_limit=[1, 1_000_000])), "refused", ("num_shadows_limit",)),
    Case("file_sunflare_million", lambda: _import(step_file("RandomSunFlare", num_flare_circles_range=[1, 1_000_000])), "refused", ("num_flare_circles_range",)),
    Case("file_1000_steps", lambda: _import(json.dumps({"transform": {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": "Blur"}] * 1000}})), "refused", ("limit",)),
    Case("link_gaussblur_99999", lambda: _link(raw_link(0, [["GaussianBlur", {"blur_limit": [3, 99999]}, 1.0, 1]])), "refused", ("blur_limit",)),
    Case("link_coarse_dropout_billion_holes", lambda: _link(raw_link(0, [["CoarseDropout", {"num_holes_range": [1, 10**9]}, 1.0, 1]])), "refused", ("num_holes_range",)),
    Case("link_defocus_radius_1e5", lambda: _link(raw_link(0, [["Defocus", {"radius": [3, 100_000]}, 1.0, 1]])), "refused", ("radius",)),
    Case("link_resize_10000", lambda: _link(raw_link(0, [["Resize", {"height": 10000, "width": 10000}, 1.0, 1]])), "refused", ("height",)),
    Case("link_too_long", lambda: _link("1." + "A" * 100_000), "refused", ("characters",)),
    Case("link_group_of_junk", lambda: _link(raw_link(0, [["OneOf", [5, "x", None], 1.0, 1]])), "refused", ("damaged",)),
    Case("link_nested_groups", lambda: _link(raw_link(0, [["OneOf", [["OneOf", [["Blur", {}, 1.0, 1]], 1.0, 1]], 1.0, 1]])), "refused", ("groups inside groups",)),
    Case("link_strict_false", lambda: _link(raw_link(0, [["Rotate", {"strict": False}, 1.0, 1]])), "refused", ("strict",)),
    Case("playground_link_rotate_inf", lambda: _playground_link("Rotate", "limit", "-inf,inf"), "refused", ("finite",)),
    Case("playground_link_samples_6000", _samples_link, "bounded"),
    Case("zip_strip_1x1000000", lambda: _zip(zip_of({"a/strip.png": png_bytes(1_000_000, 1), "a/x.png": png_bytes(20, 20), **{f"b/{i}.png": png_bytes(30 + i, 20) for i in range(2)}})), "bounded", memory_mib=1500),
    Case("zip_49mp_one_bit", lambda: _zip(zip_of({f"a/{i}.png": png_bytes(7000, 7000, "1") for i in range(2)} | {f"b/{i}.png": png_bytes(7000, 7000, "1") for i in range(2)})), "refused", ("class",), memory_mib=1500),
    Case("zip_bad_crc", lambda: _zip(_patch_zip(zip_of(_small_pngs(), zipfile.ZIP_STORED), corrupt=b"IDAT")), "refused", ("cats/0.png", "crc")),
    Case("zip_deflate64", lambda: _zip(_patch_zip(zip_of(_small_pngs()), method=9)), "refused", ("cats/0.png", "deflate64")),
    Case("zip_encrypted", lambda: _zip(_patch_zip(zip_of(_small_pngs()), encrypted=True)), "refused", ("cats/0.png", "encrypted")),
    Case("spec_epochs_1e7", lambda: _spec(epochs=10**7), "refused", ("AUGLAB_MAX_EPOCHS",)),
    Case("spec_epoch_repeats_1e5", lambda: _spec(epoch_repeats=10**5), "refused", ("AUGLAB_MAX_EPOCH_REPEATS",)),
    Case("spec_seeds_1000", lambda: _spec(seeds=1000), "refused", ("AUGLAB_MAX_SEEDS",)),
    Case("spec_batch_1e9", lambda: _spec(batch_size=10**9), "refused", ("AUGLAB_MAX_BATCH_SIZE",)),
    Case("spec_per_class_1e8", lambda: _spec(dataset_options={"per_class": 10**8}), "refused", ("AUGLAB_MAX_PER_CLASS",)),
    Case("shapes_at_512_over_data_budget", lambda: __import__("augment_core.experiment", fromlist=["create_dataset"]).create_dataset(
        "shapes", image_size=512, per_class=5000) and "built", "refused", ("AUGLAB_MAX_DATA_BYTES",), memory_mib=3000),
    Case("digits_at_512_over_data_budget", lambda: __import__("augment_core.experiment", fromlist=["create_dataset"]).create_dataset(
        "digits", image_size=512) and "built", "refused", ("AUGLAB_MAX_DATA_BYTES",), memory_mib=1500),
    Case("cli_folder_etc", _cli_folder, "refused", ("not a data-set folder",), memory_mib=3000),
    Case("prefix_features_512", _prefix_features_512, "bounded", memory_mib=3000, seconds=300),
    Case("preview_past_time_limit", _slow_preview, "refused", ("longer than",), env=(("AUGLAB_PREVIEW_TIMEOUT_S", "3"),), seconds=120),
]}


def run_case(case: Case, code_root: Path = ROOT) -> dict[str, Any]:
    """Run ``case`` in a child process under its memory cap and time limit; return its JSON report.

    ``code_root`` is the checkout whose ``augment_core`` is tested (the benchmark passes the main
    branch's for "before" figures). A child killed by the limit or ending in a traceback gives
    ``{"outcome": "crashed", ...}``.
    """
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (case.memory_mib * MiB, case.memory_mib * MiB))

    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "PYTHONPATH": os.pathsep.join(dict.fromkeys([str(code_root), str(ROOT)])),
           **dict(case.env)}
    start = time.perf_counter()
    try:
        # cwd is the code root, so ``augment_core`` comes from it; ``tests.hostile`` is found on PYTHONPATH.
        done = subprocess.run([sys.executable, "-m", "tests.hostile.cases", case.name], capture_output=True, text=True,
                              timeout=case.seconds, preexec_fn=limit, cwd=code_root, env=env)
    except subprocess.TimeoutExpired:
        return {"outcome": "crashed", "message": f"ran past {case.seconds:g} s", "seconds": case.seconds}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"outcome": "crashed", "message": (done.stderr or done.stdout)[-2000:], "seconds": round(time.perf_counter() - start, 1)}
    return json.loads(lines[-1])


def _main(name: str) -> None:
    from augment_core.errors import AugLabError

    case = CASES[name]
    start = time.perf_counter()
    try:
        detail, outcome = case.run(), "bounded"
    except AugLabError as exc:
        detail, outcome = str(exc), "refused"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"outcome": outcome, "message": detail, "seconds": round(time.perf_counter() - start, 2), "peak_mib": round(peak)}))
    # Worker processes (the preview executor) are children: their peak is reported too.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if children:
        print(json.dumps({"outcome": outcome, "message": detail, "seconds": round(time.perf_counter() - start, 2),
                          "peak_mib": round(peak), "children_peak_mib": round(children)}))


if __name__ == "__main__":
    _main(sys.argv[1])
