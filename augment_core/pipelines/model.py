"""The pipeline model: ordered steps, OneOf/SomeOf groups, and the albumentations Compose they build.

A :class:`Pipeline` is plain, frozen data (transform names, constructor arguments,
probabilities, on/off switches, a seed), so it can live in a session, travel in a link and be
compared in tests. Editing functions return a new pipeline; nothing is changed in place.
Only transforms registered in :mod:`augment_core.transforms.catalog` are ever built, each through
:func:`catalog.build` (``strict=True``, errors in plain words).

Example:
    >>> pipe = add_step(Pipeline(seed=7), "Rotate", {"limit": (-15, 15)}, p=0.5)
    >>> pipe = add_step(pipe, "GaussNoise")
    >>> pipe = group(pipe, [s.key for s in pipe.items], "OneOf")
    >>> compose = to_compose(pipe)  # A.Compose([A.OneOf([...])], seed=7)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
import albumentations as A

from augment_core.transforms import catalog
from augment_core.errors import AugLabError
from augment_core.transforms.params import to_kwargs

GroupKind = Literal["OneOf", "SomeOf"]
GROUP_KINDS: tuple[GroupKind, ...] = ("OneOf", "SomeOf")
DEFAULT_SEED = 42


@dataclass(frozen=True)
class Step:
    """One transform of the pipeline."""

    name: str  # catalog (albumentations class) name
    args: dict[str, Any] = field(default_factory=dict)  # constructor keyword arguments, tuples not lists
    p: float = 1.0  # probability that the step runs on a sample
    enabled: bool = True  # a disabled step is kept in the editor but not built
    key: int = field(default=0, compare=False)  # stable identity for widgets; not part of the value

    @property
    def moves_geometry(self) -> bool:
        """True when the step moves pixels, so boxes, masks and keypoints move with it."""
        return catalog.get_transform(self.name).moves_geometry


@dataclass(frozen=True)
class Group:
    """A block of steps of which one (``OneOf``) or ``n`` (``SomeOf``) run on each sample."""

    kind: GroupKind  # "OneOf" or "SomeOf"
    steps: tuple[Step, ...] = ()  # the candidates, each with its own probability
    p: float = 1.0  # probability that the block runs at all
    n: int = 1  # SomeOf: how many candidates are drawn
    replace: bool = False  # SomeOf: may the same candidate be drawn twice
    enabled: bool = True  # a disabled block is kept in the editor but not built
    key: int = field(default=0, compare=False)  # stable identity for widgets

    @property
    def name(self) -> str:
        """A label such as ``OneOf`` or ``SomeOf(n=2)``."""
        return self.kind if self.kind == "OneOf" else f"SomeOf(n={self.n})"


Item = Step | Group


@dataclass(frozen=True)
class Pipeline:
    """An ordered list of steps and groups, plus the seed that makes its samples reproducible."""

    items: tuple[Item, ...] = ()  # top-level steps and groups, in order
    seed: int = DEFAULT_SEED  # Compose seed: same seed, same samples

    def walk(self) -> Iterator[Item]:
        """Every item, groups before their steps."""
        for item in self.items:
            yield item
            if isinstance(item, Group):
                yield from item.steps

    def find(self, key: int) -> Item:
        """The item with ``key``; ``KeyError`` if there is none."""
        for item in self.walk():
            if item.key == key:
                return item
        raise KeyError(key)

    def active_steps(self) -> list[Step]:
        """Steps that are built: enabled, and inside an enabled group if grouped."""
        active: list[Step] = []
        for item in self.items:
            if isinstance(item, Step) and item.enabled:
                active.append(item)
            elif isinstance(item, Group) and item.enabled:
                active.extend(s for s in item.steps if s.enabled)
        return active

    @property
    def is_empty(self) -> bool:
        """True when nothing would be applied (no enabled step)."""
        return not self.active_steps()


def _next_key(pipeline: Pipeline) -> int:
    return max((item.key for item in pipeline.walk()), default=0) + 1


def renumber(pipeline: Pipeline, start: int = 1) -> Pipeline:
    """The same pipeline with keys ``start, start+1, …`` in walking order (after an import)."""
    counter = iter(range(start, start + 10_000))
    items: list[Item] = []
    for item in pipeline.items:
        if isinstance(item, Group):
            key = next(counter)
            items.append(replace(item, key=key, steps=tuple(replace(s, key=next(counter)) for s in item.steps)))
        else:
            items.append(replace(item, key=next(counter)))
    return replace(pipeline, items=tuple(items))


# New steps start from the widget defaults, except where those do nothing visible or make no sense
# for training. Affine's schema defaults are the identity (rotate 0, scale 1): a new step would
# change nothing, which looks broken. Values are moderate, the usual ranges for photos.
NEW_STEP_ARGS: dict[str, dict[str, Any]] = {
    "Affine": {"rotate": (-15, 15), "scale": (0.9, 1.1), "translate_percent": (-0.1, 0.1)},
}
# A flip or transpose with p = 1 does the same to every sample: no variation at all. 0.5 gives
# both versions equally often. Other steps start at p = 1, so the preview shows what they do.
NEW_STEP_P: dict[str, float] = {"HorizontalFlip": 0.5, "VerticalFlip": 0.5, "Transpose": 0.5, "TimeReverse": 0.5,
                                "InvertImg": 0.5, "ToGray": 0.5, "ToSepia": 0.5, "ChannelShuffle": 0.5}


def _moves(value: Any, neutral: float) -> bool:
    """True when an Affine range (a number, a pair, or an ``{"x": pair, "y": pair}`` dict) is not just ``neutral``."""
    if value is None:
        return False
    if isinstance(value, dict):
        return any(_moves(v, neutral) for v in value.values())
    values = value if isinstance(value, (list, tuple)) else (value,)
    return any(abs(float(v) - neutral) > 1e-9 for v in values)


def step_title(name: str, args: dict[str, Any]) -> str:
    """A step's name with what it does where the class name alone does not say.

    ``Affine`` is rotate, scale, translate and shear in one class; a TrivialAugment-style
    pipeline has three Affine steps that each do one of them, so they are titled
    ``"Affine: rotate"``, ``"Affine: shear"``, ``"Affine: translate"``. Other steps keep their name.
    """
    if name == "RandomBrightnessContrast":
        parts = [word for word in ("brightness", "contrast") if _moves(args.get(f"{word}_limit"), 0.0)]
        return f"{name}: {', '.join(parts)}" if len(parts) == 1 else name
    if name != "Affine":
        return name
    parts = [word for word, key, neutral in (("rotate", "rotate", 0.0), ("scale", "scale", 1.0), ("translate", "translate_percent", 0.0),
                                             ("translate", "translate_px", 0.0), ("shear", "shear", 0.0))
             if _moves(args.get(key), neutral)]
    parts = list(dict.fromkeys(parts))
    return f"Affine: {', '.join(parts)}" if parts else "Affine: no change"


def default_args(name: str, image_size: tuple[int, int] = (512, 512)) -> dict[str, Any]:
    """The constructor arguments a new step of ``name`` starts with.

    The widgets' defaults, with :data:`NEW_STEP_ARGS` on top where those would do nothing visible.
    """
    spec = catalog.get_transform(name)
    return {**to_kwargs(spec.params(image_size), {}), **NEW_STEP_ARGS.get(name, {})}


def default_probability(name: str) -> float:
    """The probability a new step of ``name`` starts with: 0.5 for flips and other all-or-nothing steps, else 1."""
    return NEW_STEP_P.get(name, 1.0)


def add_step(pipeline: Pipeline, name: str, args: dict[str, Any] | None = None, *, p: float | None = None,
             image_size: tuple[int, int] = (512, 512)) -> Pipeline:
    """Append a step; ``args`` default to :func:`default_args`, ``p`` to :func:`default_probability`.

    Raises:
        AugLabError: if ``name`` is not in the catalog or the arguments are refused.
    """
    args = default_args(name, image_size) if args is None else dict(args)
    step = normalise(Step(name, args, p=default_probability(name) if p is None else p, key=_next_key(pipeline)))
    return replace(pipeline, items=(*pipeline.items, step))


def _map(pipeline: Pipeline, key: int, change: Any) -> Pipeline:
    """Apply ``change(item) -> item | None`` to the item with ``key`` (``None`` removes it)."""
    items: list[Item] = []
    found = False
    for item in pipeline.items:
        if item.key == key:
            found = True
            new = change(item)
            if new is not None:
                items.append(new)
            continue
        if isinstance(item, Group) and any(s.key == key for s in item.steps):
            found = True
            steps = tuple(n for s in item.steps if (n := change(s) if s.key == key else s) is not None)
            items.append(replace(item, steps=steps))
            continue
        items.append(item)
    if not found:
        raise KeyError(key)
    return replace(pipeline, items=tuple(items))


def update(pipeline: Pipeline, key: int, **changes: Any) -> Pipeline:
    """Change fields of one step or group, e.g. ``update(pipe, 3, p=0.5, enabled=False)``."""
    if "p" in changes and not 0.0 <= float(changes["p"]) <= 1.0:
        raise AugLabError("A probability must be between 0 and 1.", field="p")
    if "n" in changes and int(changes["n"]) < 1:
        raise AugLabError("SomeOf must draw at least one step.", field="n")
    return _map(pipeline, key, lambda item: replace(item, **changes))


def with_seed(pipeline: Pipeline, seed: int) -> Pipeline:
    """The same pipeline with another seed (0 to 2**32 - 1)."""
    if not 0 <= int(seed) < 2**32:
        raise AugLabError("The seed must be a whole number from 0 to 2^32-1.", field="seed")
    return replace(pipeline, seed=int(seed))


def remove(pipeline: Pipeline, key: int) -> Pipeline:
    """Remove one step or group (a group goes with its steps)."""
    return _map(pipeline, key, lambda item: None)


def move(pipeline: Pipeline, key: int, offset: int) -> Pipeline:
    """Move an item ``offset`` places up (negative) or down, within its list; clamped at the ends."""
    def shifted(items: tuple[Item, ...]) -> tuple[Item, ...] | None:
        keys = [i.key for i in items]
        if key not in keys:
            return None
        old = keys.index(key)
        new = min(max(old + offset, 0), len(items) - 1)
        moved = list(items)
        moved.insert(new, moved.pop(old))
        return tuple(moved)

    top = shifted(pipeline.items)
    if top is not None:
        return replace(pipeline, items=top)
    for index, item in enumerate(pipeline.items):
        if isinstance(item, Group) and (steps := shifted(item.steps)) is not None:
            items = list(pipeline.items)
            items[index] = replace(item, steps=steps)  # type: ignore[arg-type]
            return replace(pipeline, items=tuple(items))
    raise KeyError(key)


def group(pipeline: Pipeline, keys: Iterable[int], kind: GroupKind, *, n: int = 1, p: float = 1.0) -> Pipeline:
    """Put top-level steps ``keys`` into one ``OneOf``/``SomeOf`` block where the first of them was.

    Raises:
        AugLabError: if fewer than two steps are chosen, a chosen item is a group, or ``n`` is
            outside 1..number of steps.
    """
    chosen = set(keys)
    if kind not in GROUP_KINDS:
        raise AugLabError(f"“{kind}” is not a kind of group; use OneOf or SomeOf.", field="kind")
    picked = [item for item in pipeline.items if item.key in chosen]
    if len(picked) < 2:
        raise AugLabError("Choose at least two steps to group.", hint="Tick the steps to put in the block, then group them.")
    if any(isinstance(item, Group) for item in picked):
        raise AugLabError("Groups cannot be nested in the editor.", hint="Ungroup the block first, or choose single steps.")
    if not 1 <= n <= len(picked):
        raise AugLabError(f"SomeOf can draw 1 to {len(picked)} of these steps, not {n}.", field="n")
    block = Group(kind, tuple(picked), p=p, n=n if kind == "SomeOf" else 1, key=_next_key(pipeline))  # type: ignore[arg-type]
    items: list[Item] = []
    for item in pipeline.items:
        if item.key in chosen:
            if item is picked[0]:
                items.append(block)
            continue
        items.append(item)
    return replace(pipeline, items=tuple(items))


def ungroup(pipeline: Pipeline, key: int) -> Pipeline:
    """Replace a group by its steps, in place."""
    items: list[Item] = []
    for item in pipeline.items:
        items.extend(item.steps if isinstance(item, Group) and item.key == key else (item,))
    return replace(pipeline, items=tuple(items))


def build_step(step: Step) -> A.BasicTransform:
    """The albumentations transform of one step (built even when disabled, to check it).

    Raises:
        AugLabError: naming the step when it is not in the catalog or its arguments are refused.
    """
    try:
        return catalog.build(step.name, dict(step.args), p=float(step.p))
    except AugLabError as exc:
        raise AugLabError(exc.message if exc.message.startswith(step.name) else f"{step.name}: {exc.message}",
                          hint=exc.hint, field=exc.field or step.name) from exc


def as_tuples(value: Any) -> Any:
    """Lists to tuples, recursively: the form the editor and albumentations' repr use."""
    if isinstance(value, (tuple, list)):
        return tuple(as_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: as_tuples(v) for k, v in value.items()}
    return value


def normalise(step: Step) -> Step:
    """``step`` with every constructor argument spelled out, as albumentations validated it.

    Builds the step (so bad settings are refused here, naming the step) and takes the full
    argument list from ``to_dict``: two steps that behave the same then compare equal, and
    widgets show the real values rather than the catalog's starting values.
    """
    built = build_step(step).to_dict_private()
    # Some classes (SafeRotate) report their parent's arguments too; keep what __init__ takes.
    accepted = inspect.signature(catalog.get_transform(step.name).cls.__init__).parameters
    args = {k: v for k, v in built.items() if k in accepted and k not in ("p", "strict")}
    return replace(step, args=as_tuples(args))


def _build_item(item: Item) -> A.BasicTransform | A.BaseCompose | None:
    if not item.enabled:
        return None
    if isinstance(item, Step):
        return build_step(item)
    steps = [build_step(s) for s in item.steps if s.enabled]
    if not steps:
        return None
    if item.kind == "OneOf":
        return A.OneOf(steps, p=item.p)
    return A.SomeOf(steps, n=min(item.n, len(steps)), replace=item.replace, p=item.p)


def to_transforms(pipeline: Pipeline) -> list[A.BasicTransform | A.BaseCompose]:
    """The enabled steps and groups as albumentations objects, in order."""
    return [t for item in pipeline.items if (t := _build_item(item)) is not None]


def to_compose(pipeline: Pipeline, *, annotations: bool = False, seed: int | None = None,
               record_params: bool = False) -> A.Compose:
    """The albumentations ``Compose`` the pipeline describes, seeded with ``pipeline.seed``.

    The one place a pipeline becomes a ``Compose``: previews, annotated previews and training all
    build it here, so they agree on every setting.

    Args:
        pipeline: The pipeline.
        annotations: Also transform boxes (``bboxes`` in pascal_voc pixels with ``box_labels``,
            clipped to the image), keypoints (``keypoints`` as xy with ``keypoint_labels``) and a ``mask``.
        seed: Overrides ``pipeline.seed``.
        record_params: Keep the parameters each call drew (``applied_transforms``), for captions.

    Raises:
        AugLabError: naming the step whose settings albumentations refuses.
    """
    extra: dict[str, Any] = {"save_applied_params": True} if record_params else {}
    if annotations:
        extra |= {
            "bbox_params": A.BboxParams(format="pascal_voc", label_fields=["box_labels"], clip=True, min_visibility=0.0),
            "keypoint_params": A.KeypointParams(format="xy", label_fields=["keypoint_labels"], remove_invisible=True),
        }
    return A.Compose(to_transforms(pipeline), seed=pipeline.seed if seed is None else seed, **extra)


def geometry_report(pipeline: Pipeline) -> list[tuple[str, bool]]:
    """(step name, moves geometry) for every enabled step, in order: what moves annotations."""
    return [(s.name, s.moves_geometry) for s in pipeline.active_steps()]
