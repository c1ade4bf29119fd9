"""The transform catalog: every albumentations transform that runs on one RGB uint8 image.

One registry, derived from albumentations itself. :data:`FAMILIES` places each covered
transform in a family a user knows; :data:`EXCLUDED` gives the reason for every transform that
is not offered. A test fails when albumentations has a transform that is in neither table, so
the catalog cannot silently drift from the library.

Example:
    >>> from augment_core import catalog
    >>> spec = catalog.get_transform("Rotate")
    >>> t = catalog.create_transform("Rotate", {"limit": (-30, 30)}, p=1.0)
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
import albumentations as A
from albumentations.core.transforms_interface import BasicTransform

from augment_core.errors import AugLabError
from augment_core.settings import get_int
from augment_core.transforms.bounds import out_of_bounds
from augment_core.transforms.params import ParamSpec, derive_params, to_kwargs

GEOMETRIC = "Geometric"
COLOUR = "Colour and tone"
NOISE = "Noise, blur and compression"
DROPOUT = "Occlusion and dropout"
WEATHER = "Weather and effects"
FAMILY_ORDER = (GEOMETRIC, COLOUR, NOISE, DROPOUT, WEATHER)

_FAMILY_MEMBERS = {
    GEOMETRIC: (
        "Affine", "CenterCrop", "Crop", "CropAndPad", "D4", "ElasticTransform", "GridDistortion", "GridElasticDeform",
        "HorizontalFlip", "LongestMaxSize", "OpticalDistortion", "Pad", "PadIfNeeded", "Perspective", "PiecewiseAffine",
        "RandomCrop", "RandomCropFromBorders", "RandomGridShuffle", "RandomResizedCrop", "RandomRotate90", "RandomScale",
        "RandomSizedCrop", "Resize", "Rotate", "SafeRotate", "ShiftScaleRotate", "SmallestMaxSize", "SquareSymmetry",
        "ThinPlateSpline", "TimeReverse", "Transpose", "VerticalFlip",
    ),
    COLOUR: (
        "AutoContrast", "CLAHE", "ChannelShuffle", "ColorJitter", "Equalize", "FancyPCA", "HEStain", "HueSaturationValue",
        "InvertImg", "PlanckianJitter", "PlasmaBrightnessContrast", "Posterize", "RGBShift", "RandomBrightnessContrast",
        "RandomGamma", "RandomToneCurve", "Solarize", "ToGray", "ToSepia",
    ),
    NOISE: (
        "AdditiveNoise", "AdvancedBlur", "Blur", "Defocus", "Downscale", "Emboss", "GaussNoise", "GaussianBlur", "GlassBlur",
        "ISONoise", "ImageCompression", "MedianBlur", "Morphological", "MotionBlur", "MultiplicativeNoise", "RingingOvershoot",
        "SaltAndPepper", "Sharpen", "ShotNoise", "Superpixels", "UnsharpMask", "ZoomBlur",
    ),
    DROPOUT: (
        "ChannelDropout", "CoarseDropout", "Erasing", "FrequencyMasking", "GridDropout", "PixelDropout", "TimeMasking", "XYMasking",
    ),
    WEATHER: (
        "ChromaticAberration", "Illumination", "PlasmaShadow", "RandomFog", "RandomGravel", "RandomRain", "RandomShadow",
        "RandomSnow", "RandomSunFlare", "Spatter",
    ),
}
FAMILIES: dict[str, str] = {name: family for family, names in _FAMILY_MEMBERS.items() for name in names}

_NEEDS_BOXES = "needs bounding boxes to decide where to crop"
_NEEDS_MASK = "needs a segmentation mask"
_NEEDS_REFERENCE = "needs reference images passed as metadata; not a single-image transform"
_VOLUME = "works on 3-D volumes, not 2-D images"
_BASE = "abstract base class, not a transform"
_MODEL_INPUT = "converts the image for a model (changes its type); not an augmentation to preview"

EXCLUDED: dict[str, str] = {
    "BasicTransform": _BASE, "DualTransform": _BASE, "ImageOnlyTransform": _BASE, "Transform3D": _BASE,
    "AtLeastOneBBoxRandomCrop": _NEEDS_BOXES, "BBoxSafeRandomCrop": _NEEDS_BOXES, "RandomSizedBBoxSafeCrop": _NEEDS_BOXES,
    "RandomCropNearBBox": "needs a 'cropping_bbox' box to crop near",
    "CropNonEmptyMaskIfExists": _NEEDS_MASK, "MaskDropout": _NEEDS_MASK,
    "ConstrainedCoarseDropout": "drops holes inside objects given by a mask or boxes; without them it does nothing",
    "FDA": _NEEDS_REFERENCE, "HistogramMatching": _NEEDS_REFERENCE, "PixelDistributionAdaptation": _NEEDS_REFERENCE,
    "OverlayElements": "needs overlay images and their positions as metadata",
    "Mosaic": "mixes several images through metadata; shown with the mixing operations instead",
    "TextImage": "needs a font file and text regions as metadata",
    "CenterCrop3D": _VOLUME, "CoarseDropout3D": _VOLUME, "CubicSymmetry": _VOLUME, "Pad3D": _VOLUME,
    "PadIfNeeded3D": _VOLUME, "RandomCrop3D": _VOLUME, "ToTensor3D": _VOLUME,
    "Lambda": "runs arbitrary Python functions; cannot be set from widgets or saved safely",
    "NoOp": "does nothing; disabling a step does the same",
    "Normalize": _MODEL_INPUT, "ToFloat": _MODEL_INPUT, "FromFloat": _MODEL_INPUT, "ToTensorV2": _MODEL_INPUT,
    "ToRGB": "expects a single-channel image; previews are already RGB",
}


@dataclass(frozen=True)
class TransformSpec:
    """One catalog entry."""

    name: str  # albumentations class name
    family: str  # one of FAMILY_ORDER
    summary: str  # first paragraph of the docstring
    moves_geometry: bool  # True when it moves pixels (and so boxes, masks and keypoints)
    cls: type  # the albumentations class

    def params(self, image_size: tuple[int, int] = (512, 512)) -> tuple[ParamSpec, ...]:
        """Widget specs for this transform on an image of ``image_size`` = (height, width)."""
        return _params(self.name, image_size)

    @property
    def size_dependent(self) -> bool:
        """True when defaults or bounds depend on the image size (crops, resizes, pads)."""
        return self.params((512, 512)) != self.params((300, 400))

    def visible_params(self, image_size: tuple[int, int] = (512, 512)) -> tuple[ParamSpec, ...]:
        """The specs that get a widget."""
        return tuple(p for p in self.params(image_size) if not p.hidden)


def all_library_transforms() -> list[str]:
    """Names of every transform class albumentations exports."""
    return sorted(
        name for name in dir(A) if inspect.isclass(getattr(A, name)) and issubclass(getattr(A, name), BasicTransform)
    )


def _summary(cls: type) -> str:
    doc = inspect.cleandoc(cls.__doc__ or "")
    return " ".join(doc.split("\n\n", 1)[0].split())


@lru_cache(maxsize=1)
def _registry() -> dict[str, TransformSpec]:
    registry: dict[str, TransformSpec] = {}
    for name in sorted(FAMILIES, key=lambda n: (FAMILY_ORDER.index(FAMILIES[n]), n)):
        cls = getattr(A, name)
        registry[name] = TransformSpec(name, FAMILIES[name], _summary(cls), issubclass(cls, A.DualTransform), cls)
    return registry


@lru_cache(maxsize=512)
def _params(name: str, image_size: tuple[int, int]) -> tuple[ParamSpec, ...]:
    return derive_params(get_transform(name).cls, image_size)


def list_transforms(family: str | None = None, query: str = "") -> list[str]:
    """Names of covered transforms, optionally one family's, filtered and ranked by a search ``query``.

    Without a query the catalog order is kept. With one, the matches come best first (see
    :func:`search_rank`): an exact or prefix name match always leads, names and family words come
    before docstring matches, so "rain" gives RandomRain first, not a transform whose docstring
    happens to say "constraints".
    """
    q = query.strip().lower()
    specs = [spec for spec in _registry().values() if family is None or spec.family == family]
    if not q:
        return [spec.name for spec in specs]
    ranked = [(rank, i, spec.name) for i, spec in enumerate(specs) if (rank := search_rank(spec, q)) is not None]
    return [name for _, _, name in sorted(ranked)]


def _words(text: str) -> list[str]:
    """Lower-case words of ``text``, splitting CamelCase names too ("RandomRain" -> random, rain)."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", text)]


def search_rank(spec: TransformSpec, query: str) -> int | None:
    """How well ``spec`` matches a lower-case ``query`` (0 best), or ``None`` when it does not match.

    0 exact name, 1 name prefix, 2 a word of the name starts with it, 3 anywhere in the name,
    4 a word of the family starts with it, 5 a word of the docstring starts with it, 6 anywhere
    in the docstring. Ties keep the catalog order.
    """
    name = spec.name.lower()
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if any(word.startswith(query) for word in _words(spec.name)):
        return 2
    if query in name:
        return 3
    if any(word.startswith(query) for word in _words(spec.family)):
        return 4
    summary = spec.summary.lower()
    if any(word.startswith(query) for word in re.findall(r"[a-z0-9]+", summary)):
        return 5
    return 6 if query in summary else None


def get_transform(name: str) -> TransformSpec:
    """The catalog entry for ``name``; :class:`AugLabError` if it is not offered."""
    try:
        return _registry()[name]
    except KeyError:
        reason = EXCLUDED.get(name)
        detail = f" It is not offered because it {reason}." if reason else ""
        raise AugLabError(f"“{name}” is not a transform in the catalog.{detail}", field=name) from None


def create_transform(name: str, values: dict[str, Any] | None = None, *, p: float = 1.0, image_size: tuple[int, int] = (512, 512)) -> BasicTransform:
    """Build transform ``name`` from widget ``values`` (missing ones take the widget default).

    Built with ``strict=True``, so an argument albumentations does not know is an error rather
    than silently ignored. Validation errors become :class:`AugLabError` naming the parameter.
    """
    spec = get_transform(name)
    kwargs = to_kwargs(spec.params(image_size), dict(values or {}))
    return build(name, kwargs, p=p)


def bounds_image_size() -> tuple[int, int]:
    """The (height, width) that size-dependent bounds of files, links and specs are judged at.

    A file or link does not know the image it will meet; the largest preview (the
    ``AUGLAB_PREVIEW_SIZE`` setting) is the biggest image a slider is ever drawn for.
    """
    side = get_int("AUGLAB_PREVIEW_SIZE")
    return side, side


def check_bounds(name: str, args: dict[str, Any], image_size: tuple[int, int] | None = None) -> None:
    """Refuse constructor ``args`` that the widgets of ``name`` could not show.

    The importer, share links and the experiment spec call this before anything is built, so a
    file or a link can never ask for more work than a slider (a blur kernel of 99999, a million
    holes, a 10,000-pixel resize). ``image_size`` defaults to :func:`bounds_image_size`.

    Raises:
        AugLabError: naming the transform, the parameter, the value and the allowed range.
    """
    size = image_size or bounds_image_size()
    problems = out_of_bounds(_params(name, size), args, hidden_limit=2 * max(size))
    if problems:
        raise AugLabError(f"{name}: " + "; ".join(problems) + ".",
                          hint="These are the limits of the editor's sliders; change the value in the file or link.",
                          field=name)


def build(name: str, kwargs: dict[str, Any], *, p: float = 1.0) -> BasicTransform:
    """Instantiate ``name`` with constructor ``kwargs``, translating albumentations' errors.

    ``strict`` is always on: an argument that asks to switch it off is refused (otherwise a
    ``strict: false`` in an imported step would silently turn validation off).
    """
    cls = get_transform(name).cls
    if "strict" in kwargs or "p" in kwargs:
        raise AugLabError(f"{name}: “{'strict' if 'strict' in kwargs else 'p'}” is not a transform setting here; "
                          "validation is always strict and the probability is given separately.",
                          hint="Remove that key from the step.", field=name)
    try:
        try:
            return cls(**kwargs, p=p, strict=True)
        except TypeError as exc:
            if "strict" not in str(exc):
                raise
            # A few classes (MedianBlur, RandomRotate90, ToSepia) take no ``strict``; their plain
            # ``__init__`` has no **kwargs, so an unknown argument is a TypeError anyway.
            return cls(**kwargs, p=p)
    except (ValueError, TypeError) as exc:
        raise explain_error(name, exc) from exc


def explain_error(name: str, exc: Exception) -> AugLabError:
    """Turn a pydantic or albumentations error into a plain-words :class:`AugLabError`."""
    from pydantic import ValidationError

    cause = exc if isinstance(exc, ValidationError) else exc.__cause__ or exc.__context__
    if isinstance(cause, ValidationError):
        problems = []
        field = None
        for err in cause.errors():
            loc = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__")
            field = field or (loc or None)
            msg = err.get("msg", "").removeprefix("Value error, ")
            problems.append(f"{loc.replace('_', ' ')}: {msg}" if loc else msg)
        return AugLabError(f"{name} cannot use these settings. " + "; ".join(problems), hint="Change the highlighted value.", field=field)
    text = str(exc).splitlines()
    message = text[0] if text else type(exc).__name__
    for line in text[1:]:
        if line.strip().startswith("Value error,"):
            message = line.strip().removeprefix("Value error, ").split(" [type=")[0]
    return AugLabError(f"{name} cannot use these settings: {message}", hint="Change the value and try again.")
