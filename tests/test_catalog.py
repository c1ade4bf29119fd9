"""The catalog covers albumentations completely and every covered transform runs."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest

from augment_core import AugLabError

from augment_core.transforms import catalog

IMAGE_SIZE = (64, 80)

# Combinations albumentations refuses by design: the test checks they give a clear AugLabError.
REFUSED_BY_DESIGN = {
    ("AdvancedBlur", "beta_limit"): "the range must include 1.0",
    ("HEStain", "preset"): "a preset is only allowed with method='preset'",
}


def test_every_library_transform_is_covered_or_excluded_with_a_reason():
    missing = [n for n in catalog.all_library_transforms() if n not in catalog.FAMILIES and n not in catalog.EXCLUDED]
    assert missing == [], f"albumentations has transforms the catalog neither covers nor excludes: {missing}"
    assert not set(catalog.FAMILIES) & set(catalog.EXCLUDED)
    assert all(reason.strip() for reason in catalog.EXCLUDED.values())


def test_catalog_is_about_the_size_of_the_single_image_library():
    assert len(catalog.list_transforms()) >= 85
    assert {catalog.get_transform(n).family for n in catalog.list_transforms()} == set(catalog.FAMILY_ORDER)


def test_search_and_family_filter():
    assert catalog.list_transforms(query="rotate") and all(
        "rotate" in n.lower() or "rotate" in catalog.get_transform(n).summary.lower() for n in catalog.list_transforms(query="rotate")
    )
    assert set(catalog.list_transforms(catalog.GEOMETRIC)) >= {"Rotate", "HorizontalFlip", "Affine"}
    assert "Rotate" not in catalog.list_transforms(catalog.COLOUR)


def test_excluded_transform_is_refused_with_its_reason():
    with pytest.raises(AugLabError, match="segmentation mask"):
        catalog.get_transform("MaskDropout")


def _trials(spec: catalog.TransformSpec):
    yield "default", {}
    for p in spec.visible_params(IMAGE_SIZE):
        if p.kind in ("range", "pair"):
            yield f"{p.name}=min", {p.name: (p.low, p.low)}
            yield f"{p.name}=max", {p.name: (p.high, p.high)}
            yield f"{p.name}=full", {p.name: (p.low, p.high)}
        elif p.kind == "number":
            yield f"{p.name}=min", {p.name: p.low}
            yield f"{p.name}=max", {p.name: p.high}
        elif p.kind == "select":
            for option in p.options:
                yield f"{p.name}={option}", {p.name: option}
        elif p.kind == "bool":
            yield f"{p.name}={not p.default}", {p.name: not p.default}


@pytest.mark.filterwarnings("error::RuntimeWarning")  # NaN kernels and overflows mean a bad bound
@pytest.mark.parametrize("name", catalog.list_transforms())
def test_transform_runs_seeded_at_default_min_and_max(name, rgb_image):
    spec = catalog.get_transform(name)
    assert spec.summary and spec.family in catalog.FAMILY_ORDER
    for label, values in _trials(spec):
        param = label.split("=")[0]
        try:
            transform = catalog.create_transform(name, values, image_size=IMAGE_SIZE)
        except AugLabError as exc:
            assert (name, param) in REFUSED_BY_DESIGN, f"{name} {label} refused: {exc}"
            assert name in exc.message
            continue
        first = A.Compose([transform], seed=7)(image=rgb_image)["image"]
        again = A.Compose([catalog.create_transform(name, values, image_size=IMAGE_SIZE)], seed=7)(image=rgb_image)["image"]
        assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3, f"{name} {label}: {first.shape}"
        np.testing.assert_array_equal(first, again, err_msg=f"{name} {label} is not reproducible with a seed")


@pytest.mark.parametrize("name", catalog.list_transforms())
def test_widget_specs_are_consistent(name):
    for p in catalog.get_transform(name).visible_params(IMAGE_SIZE):
        if p.kind in ("range", "number", "pair"):
            assert p.low is not None and p.high is not None and p.low < p.high, (name, p)
            assert p.step and p.step > 0
            defaults = p.default if isinstance(p.default, tuple) else (p.default,)
            assert all(p.low <= v <= p.high for v in defaults), f"{name}.{p.name}: default {p.default} outside [{p.low}, {p.high}]"
        if p.kind == "select":
            assert p.default in p.options and len(p.labels) == len(p.options)


def test_opencv_codes_get_human_labels():
    border = next(p for p in catalog.get_transform("Rotate").visible_params() if p.name == "border_mode")
    assert "reflect" in border.labels and border.kind == "select"


def test_strict_rejects_unknown_argument():
    with pytest.raises(AugLabError):
        catalog.build("Rotate", {"limt": 10})


def test_impossible_combination_is_explained_in_plain_words():
    with pytest.raises(AugLabError) as info:
        catalog.create_transform("GaussNoise", {"std_range": (0.5, 0.1)})
    assert "std range" in info.value.message and "pydantic" not in info.value.message


def test_crop_sizes_follow_the_image():
    params = {p.name: p for p in catalog.get_transform("RandomCrop").visible_params((100, 200))}
    assert params["height"].high == 100 and params["width"].high == 200
    assert params["height"].default == 75


@pytest.mark.parametrize(("query", "first"), [("rain", "RandomRain"), ("HorizontalFlip", "HorizontalFlip"), ("gaussnoise", "GaussNoise"),
                                              ("blur", "Blur"), ("rot", "Rotate"), ("Affine", "Affine"), ("snow", "RandomSnow")])
def test_search_puts_an_exact_or_prefix_or_name_word_match_first(query: str, first: str) -> None:
    assert catalog.list_transforms(query=query)[0] == first


@pytest.mark.parametrize("name", catalog.list_transforms())
def test_search_for_a_full_name_always_gives_that_transform_first(name: str) -> None:
    assert catalog.list_transforms(query=name)[0] == name
    assert catalog.list_transforms(query=name.lower()[:-1])[0].lower().startswith(name.lower()[:-1])


def test_search_ranks_names_and_family_words_above_docstring_matches() -> None:
    names = catalog.list_transforms(query="rain")
    assert names.index("RandomRain") < names.index("LongestMaxSize")  # "constraints" in its docstring
    weather = catalog.list_transforms(query="weather")
    assert set(catalog.list_transforms(catalog.WEATHER)) <= set(weather)
    docstring_only = [n for n in weather if catalog.get_transform(n).family != catalog.WEATHER]
    assert all(weather.index(n) > weather.index("RandomRain") for n in docstring_only)
