"""Export/import round trips (ours and albumentations.load), refused files, share links."""

from __future__ import annotations

import json

import albumentations as A
import numpy as np
import pytest

from augment_core import AugLabError

from augment_core.transforms import catalog
from augment_core.pipelines import model as pl
from augment_core.pipelines.io import decode_link, encode_link, export_text, import_text, python_code, to_dict
from augment_core.pipelines.presets import create_pipeline_preset, list_pipeline_presets

SIZE = (64, 80)


def _samples(compose: A.Compose, image: np.ndarray, n: int = 6) -> list[np.ndarray]:
    return [compose(image=image)["image"] for _ in range(n)]


def _random_pipeline(seed: int) -> pl.Pipeline:
    """Five catalog transforms chosen by ``seed``, two of them in a OneOf, one switched off."""
    rng = np.random.default_rng(seed)
    names = rng.choice(catalog.list_transforms(), size=5, replace=False)
    pipe = pl.Pipeline(seed=int(rng.integers(0, 2**31)))
    for name in names:
        pipe = pl.add_step(pipe, str(name), p=float(rng.choice([0.3, 0.5, 1.0])), image_size=SIZE)
    pipe = pl.group(pipe, [1, 2], "OneOf")
    return pl.update(pipe, 4, enabled=False)


def _cases() -> list[tuple[str, pl.Pipeline]]:
    return [(name, create_pipeline_preset(name, seed=3)) for name in list_pipeline_presets()] + [(f"random-{s}", _random_pipeline(s)) for s in range(4)]


@pytest.mark.parametrize("data_format", ["json", "yaml"])
@pytest.mark.parametrize("name,pipe", _cases(), ids=[c[0] for c in _cases()])
def test_round_trip_gives_identical_output(name, pipe, data_format, rgb_image, tmp_path):
    text = export_text(pipe, data_format)
    back = import_text(text, data_format)
    assert back == pipe
    expected = _samples(pl.to_compose(pipe), rgb_image)
    assert all(np.array_equal(a, b) for a, b in zip(expected, _samples(pl.to_compose(back), rgb_image)))
    path = tmp_path / f"pipeline.{data_format}"
    path.write_text(text)
    loaded = A.load(str(path), data_format=data_format)
    loaded.set_random_seed(int(json.loads(json.dumps(to_dict(pipe)))["seed"]))
    assert all(np.array_equal(a, b) for a, b in zip(expected, _samples(loaded, rgb_image)))


@pytest.mark.parametrize("name,pipe", _cases(), ids=[c[0] for c in _cases()])
def test_share_link_round_trip(name, pipe):
    link = encode_link(pipe)
    assert link.startswith("1.") and all(c.isalnum() or c in "-_." for c in link)
    assert decode_link(link) == pipe


def test_links_are_compact():
    assert len(encode_link(create_pipeline_preset("Natural photos · medium"))) < 600


def test_seed_is_stored_and_plain_albumentations_files_import():
    pipe = pl.with_seed(create_pipeline_preset("Natural photos · light"), 1234)
    assert to_dict(pipe)["seed"] == 1234
    plain = A.to_dict(pl.to_compose(pipe))  # what A.save writes: no seed
    assert import_text(json.dumps(plain), "json").seed == 0


def test_python_code_builds_the_same_pipeline(rgb_image):
    pipe = create_pipeline_preset("Natural photos · medium", seed=5)
    namespace: dict = {"image": rgb_image}
    exec(python_code(pipe), namespace)  # noqa: S102 - our own generated code; it applies the transform once
    expected = _samples(pl.to_compose(pipe), rgb_image, 7)[1:]
    assert all(np.array_equal(a, b) for a, b in zip(expected, _samples(namespace["transform"], rgb_image)))


def _doc(*steps: dict) -> str:
    return json.dumps({"transform": {"__class_fullname__": "Compose", "p": 1.0, "transforms": list(steps)}})


@pytest.mark.parametrize("text,data_format,match", [
    (_doc({"__class_fullname__": "Rotate", "limit": [-10, 10]}, {"__class_fullname__": "Lambda", "p": 1.0}), "json", r"Step 2 \(Lambda\).*not a transform"),
    (_doc({"__class_fullname__": "os.system"}), "json", r"Step 1 \(os.system\)"),
    (_doc({"__class_fullname__": "Rotate", "limit": "wide"}), "json", r"Step 1 \(Rotate\).*limit"),
    (_doc({"__class_fullname__": "Rotate", "p": 3}), "json", r"Step 1 \(Rotate\).*probability"),
    (_doc({"__class_fullname__": "Blur", "bogus": 1}), "json", r"Step 1 \(Blur\)"),
    (_doc({"__class_fullname__": "OneOf", "transforms": [{"__class_fullname__": "OneOf", "transforms": [{"__class_fullname__": "Blur"}]}]}), "json", "inside groups"),
    (_doc({"__class_fullname__": "Sequential", "transforms": [{"__class_fullname__": "Blur"}]}), "json", "only OneOf and SomeOf"),
    (_doc({"__class_fullname__": "SomeOf", "n": 0, "transforms": [{"__class_fullname__": "Blur"}]}), "json", "“n” must be"),
    (_doc({"p": 1}), "json", "needs a “__class_fullname__”"),
    ('{"transform": {"__class_fullname__": "Compose", "transforms": [', "json", "malformed at line 1"),
    ("transform: [unclosed", "yaml", "malformed"),
    ("!!python/object/apply:os.system ['echo pwned']", "yaml", "tag that is not allowed"),
    ("transform: !!python/name:os.system\n", "yaml", "tag that is not allowed"),
    ("[1, 2, 3]", "json", "not a pipeline file"),
    ('{"transform": {"__class_fullname__": "OneOf", "transforms": []}}', "json", "must be a Compose"),
    ("", "json", "empty"),
    (_doc() [:-2] + '], "seed": -1}}', "json", "."),
])
def test_refused_files_name_the_problem(text, data_format, match):
    with pytest.raises(AugLabError, match=match):
        import_text(text, data_format)


def test_refused_seed_size_and_encoding():
    with pytest.raises(AugLabError, match="seed"):
        import_text(json.loads(json.dumps(_doc())) and _doc()[:-1] + ', "seed": "x"}', "json")
    with pytest.raises(AugLabError, match="larger than"):
        import_text(b" " * 2_000_000)
    with pytest.raises(AugLabError, match="UTF-8"):
        import_text(b"\xff\xfe\x00bad")


@pytest.mark.parametrize("link", ["", "2.abc", "1.!!!", "1.eJzLSM3JyVcozy/KSQEAGgQEXQ", "1." + "A" * 40])
def test_damaged_links_are_refused(link):
    with pytest.raises(AugLabError):
        decode_link(link)
