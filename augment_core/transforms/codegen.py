"""Python source that rebuilds a transform or a pipeline, ready to copy.

Only arguments that differ from albumentations' defaults are written; OpenCV codes are written
as their ``cv2`` constant names so the snippet reads like hand-written code.
"""

from __future__ import annotations

import inspect
from typing import Any

import augment_core  # noqa: F401
import albumentations as A

from augment_core.transforms.params import OPENCV_CODES

_CV2_NAMES = {param: {code: cv2_name for code, (_, cv2_name) in codes.items()} for param, codes in OPENCV_CODES.items()}


def _literal(name: str, value: Any) -> str:
    codes = _CV2_NAMES.get("interpolation" if "interpolation" in name else name)
    if codes and isinstance(value, int) and value in codes:
        return codes[value]
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, tuple):
        inner = ", ".join(_literal("", v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, (tuple, list)) and isinstance(a, (int, float)) and not isinstance(a, bool):
        return all(_same(a, y) for y in b)  # fill=0 is the same as fill=(0, 0, 0)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # arrays and other objects compare elementwise
        return False


def call_code(name: str, kwargs: dict[str, Any], p: float) -> str:
    """``A.Name(arg=value, ..., p=p)`` with only the non-default arguments."""
    signature = inspect.signature(getattr(A, name).__init__)
    args = []
    for key, value in kwargs.items():
        param = signature.parameters.get(key)
        if param is not None and param.default is not inspect.Parameter.empty and _same(param.default, value):
            continue
        args.append(f"{key}={_literal(key, value)}")
    args.append(f"p={round(p, 4)}")
    return f"A.{name}({', '.join(args)})"


def transform_code(name: str, kwargs: dict[str, Any], p: float = 1.0, seed: int | None = None) -> str:
    """A complete snippet that builds ``name`` with ``kwargs`` inside a seeded ``Compose``.

    Example:
        >>> print(transform_code("Rotate", {"limit": (-30.0, 30.0)}, p=0.5, seed=7))
        import albumentations as A
        <BLANKLINE>
        transform = A.Compose([
            A.Rotate(limit=(-30.0, 30.0), p=0.5),
        ], seed=7)
        augmented = transform(image=image)["image"]
    """
    return compose_code([call_code(name, kwargs, p)], seed)


def compose_code(calls: list[str], seed: int | None = None) -> str:
    """Wrap already-written step calls in ``A.Compose`` with the imports they need."""
    body = "\n".join(f"    {line}," for line in calls)
    needs_cv2 = "cv2." in body
    header = "import albumentations as A\n" + ("import cv2\n" if needs_cv2 else "")
    seed_arg = f", seed={seed}" if seed is not None else ""
    return f"{header}\ntransform = A.Compose([\n{body}\n]{seed_arg})\naugmented = transform(image=image)[\"image\"]\n"
