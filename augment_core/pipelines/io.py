"""Pipelines in and out: albumentations-native JSON and YAML, Python code, and share links.

Exported files are what ``A.save`` writes (``{"__version__", "transform": Compose.to_dict}``), so
``albumentations.load(path, data_format="json" | "yaml")`` reads them back. Two top-level keys
are added, which albumentations ignores: ``seed`` (``Compose.to_dict`` drops it; without it a
reloaded pipeline draws other samples) and ``augmentation_lab`` (disabled steps and where they
were, so the editor gets them back). Albumentations itself gets only what is enabled.

Import is safe: YAML is read with ``yaml.safe_load`` (no Python tags), files are size-limited,
only ``Compose``, ``OneOf``, ``SomeOf`` and transforms registered in the catalog are built, and
every refusal is an :class:`AugLabError` naming the step ("Step 3 (Rotate): …").

Share links hold a compact form (non-default arguments only), zlib-compressed and base64url
encoded: ``?pipeline=1.eJyLVkrLz1eKBQ…``.

Example:
    >>> text = export_text(pipe, "yaml")
    >>> assert import_text(text, "yaml") == pipe
    >>> assert decode_link(encode_link(pipe)) == pipe
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import replace
from typing import Any, Literal

import augment_core  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
import albumentations as A
import yaml

from augment_core.transforms import catalog
import inspect

from augment_core.transforms.codegen import call_code, compose_code
from augment_core.errors import AugLabError
from augment_core.pipelines.limits import check_document, max_steps, parse_document
from augment_core.pipelines.model import Group, Item, Pipeline, Step, as_tuples, normalise, renumber, step_title, to_compose
from augment_core.settings import get_int

Format = Literal["json", "yaml"]
MAX_FILE_BYTES = 1_000_000  # a pipeline file is a few kB; anything bigger is not one
LINK_VERSION = "1"
_META = "augmentation_lab"


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively (JSON and safe YAML know only lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _step_dict(step: Step) -> dict[str, Any]:
    return {"__class_fullname__": step.name, "p": step.p, **_plain(step.args)}


def _item_dict(item: Item) -> dict[str, Any]:
    if isinstance(item, Step):
        return _step_dict(item)
    return {"__class_fullname__": "SomeOf" if item.kind == "SomeOf" else "OneOf", "p": item.p,
            "transforms": [_step_dict(s) for s in item.steps], **({"n": item.n, "replace": item.replace} if item.kind == "SomeOf" else {})}


def to_dict(pipeline: Pipeline) -> dict[str, Any]:
    """The exported document: albumentations' own ``to_dict`` of what is enabled, plus seed and
    the disabled steps (with their positions) for the editor."""
    to_compose(pipeline)  # refuse a pipeline albumentations would not build
    kept: list[Item] = []
    disabled: list[dict[str, Any]] = []
    for i, item in enumerate(pipeline.items):
        if not item.enabled or (isinstance(item, Group) and not any(s.enabled for s in item.steps)):
            disabled.append({"position": [i], "transform": _item_dict(item), "enabled": item.enabled})
            continue
        if isinstance(item, Group):
            for j, step in enumerate(item.steps):
                if not step.enabled:
                    disabled.append({"position": [i, j], "transform": _step_dict(step), "enabled": False})
            item = replace(item, steps=tuple(s for s in item.steps if s.enabled))
        kept.append(item)
    document = _plain(A.to_dict(to_compose(Pipeline(tuple(kept), pipeline.seed))))
    # Steps are written from their own arguments: some classes' to_dict adds their parent's
    # arguments (SafeRotate lists Affine's), which their constructor then refuses.
    document["transform"]["transforms"] = [_item_dict(item) for item in kept]
    document["seed"] = pipeline.seed
    if disabled:
        document[_META] = {"disabled": disabled}
    return document


def training_dict(pipeline: Pipeline) -> dict[str, Any] | None:
    """The form ``ExperimentSpec.pipeline`` takes: albumentations' dict of the enabled steps, or
    ``None`` when no step is enabled (no augmentation). The one place the document is trimmed."""
    if pipeline.is_empty:
        return None
    return trim_document(to_dict(pipeline))


def trim_document(document: dict[str, Any]) -> dict[str, Any]:
    """Only what albumentations reads (``__version__`` and ``transform``): the editor's seed and
    switched-off steps are dropped, so equal pipelines give equal specs."""
    return {"__version__": document["__version__"], "transform": document["transform"]}


def document_transforms(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The top-level transform dicts of an albumentations document (``[]`` for ``None`` or no steps)."""
    return list((document or {}).get("transform", {}).get("transforms", []))


def step_names(document: dict[str, Any] | None) -> list[str]:
    """Short titles of a document's steps: ``["Affine: rotate", "HorizontalFlip (p=0.5)", "OneOf(Blur | GaussNoise)"]``."""

    def name(node: dict[str, Any]) -> str:
        cls = str(node.get("__class_fullname__", "?")).rsplit(".", 1)[-1]
        children = node.get("transforms")
        text = f"{cls}({' | '.join(name(c) for c in children)})" if children else step_title(cls, node)
        p = node.get("p", 1.0)
        return text if p is None or float(p) >= 1 else f"{text} (p={float(p):g})"

    return [name(t) for t in document_transforms(document)]


def export_text(pipeline: Pipeline, data_format: Format) -> str:
    """The pipeline as JSON or YAML text that ``albumentations.load`` reads."""
    document = to_dict(pipeline)
    if data_format == "json":
        return json.dumps(document, indent=2) + "\n"
    return yaml.safe_dump(document, sort_keys=False)


def python_code(pipeline: Pipeline) -> str:
    """A Python snippet that builds the enabled pipeline, seeded (disabled steps are left out)."""
    def call(step: Step) -> str:
        return call_code(step.name, step.args, step.p)

    lines: list[str] = []
    for item in pipeline.items:
        if not item.enabled:
            continue
        if isinstance(item, Step):
            lines.append(call(item))
            continue
        steps = [s for s in item.steps if s.enabled]
        if steps:
            extra = f", n={min(item.n, len(steps))}" + (", replace=True" if item.replace else "") if item.kind == "SomeOf" else ""
            inner = "".join(f"\n        {call(s)}," for s in steps)
            lines.append(f"A.{item.kind}([{inner}\n    ]{extra}, p={round(item.p, 4)})")
    return compose_code(lines, pipeline.seed)


def _where(position: int, name: str) -> str:
    return f"Step {position} ({name})"


def _parse_step(data: Any, where: str, *, group_ok: bool) -> Item:
    if not isinstance(data, dict) or "__class_fullname__" not in data:
        raise AugLabError(f"{where} is not a transform: it needs a “__class_fullname__”.", field=where)
    full = str(data["__class_fullname__"])
    name = full.rsplit(".", 1)[-1] if full.startswith("albumentations.") else full
    where = f"{where.split(' (')[0]} ({name})"
    extra = {k: v for k, v in data.items() if k not in ("__class_fullname__", "p", "transforms", "n", "replace")}
    p = data.get("p", 1.0 if name in ("OneOf", "SomeOf") else 0.5)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise AugLabError(f"{where}: the probability “p” must be a number from 0 to 1, not {p!r}.", field=where)
    if name in ("OneOf", "SomeOf"):
        if not group_ok:
            raise AugLabError(f"{where}: groups inside groups are not supported by the editor.",
                              hint="Flatten the nested block and import again.", field=where)
        children = data.get("transforms")
        if not isinstance(children, list) or not children:
            raise AugLabError(f"{where}: a {name} block needs a non-empty list “transforms”.", field=where)
        n, repl = data.get("n", 1), data.get("replace", False)
        if name == "SomeOf" and (isinstance(n, bool) or not isinstance(n, int) or n < 1 or not isinstance(repl, bool)):
            raise AugLabError(f"{where}: “n” must be a whole number of at least 1 and “replace” true or false.", field=where)
        steps = tuple(_parse_step(c, f"{where}, step {j + 1}", group_ok=False) for j, c in enumerate(children))
        return Group(name, steps, p=float(p), n=n if name == "SomeOf" else 1, replace=bool(repl) and name == "SomeOf")  # type: ignore[arg-type]
    if "transforms" in data:
        raise AugLabError(f"{where}: “{name}” blocks are not supported; only OneOf and SomeOf are.", field=where)
    try:
        catalog.get_transform(name)
    except AugLabError as exc:
        raise AugLabError(f"{where}: {exc.message}", hint="Remove that step from the file, or replace it with a catalog transform.", field=where) from exc
    # Validation is always strict: a file may repeat "strict: true" (harmless) but never switch it off.
    if extra.pop("strict", True) is not True:
        raise AugLabError(f"{where}: “strict” cannot be switched off; every step is validated strictly.",
                          hint="Remove the “strict” key from the step.", field=where)
    try:
        # Budgets before work: the slider bounds are the limits, checked before anything is built.
        catalog.check_bounds(name, as_tuples(extra))
        return normalise(Step(name, as_tuples(extra), p=float(p)))
    except AugLabError as exc:
        raise AugLabError(f"{where}: {exc.message.removeprefix(name + ': ')}", hint=exc.hint, field=where) from exc


def _check_step_count(children: list[Any], disabled: list[Any]) -> None:
    """Refuse more steps than ``AUGLAB_PIPELINE_MAX_STEPS``, counting group members too."""
    limit = max_steps()
    count = 0
    for entry in [*children, *(d.get("transform") if isinstance(d, dict) else d for d in disabled)]:
        inner = entry.get("transforms") if isinstance(entry, dict) else None
        count += 1 + (len(inner) if isinstance(inner, list) else 0)
    if count > limit:
        raise AugLabError(f"The pipeline has {count} steps, more than the limit of {limit} (AUGLAB_PIPELINE_MAX_STEPS).",
                          hint="Split it, or raise AUGLAB_PIPELINE_MAX_STEPS.")


def from_dict(document: Any) -> Pipeline:
    """Check and build a pipeline from an exported document (or a bare ``Compose`` dict).

    Raises:
        AugLabError: naming the problem and the step; nothing is built from an unknown transform.
    """
    check_document(document)
    if not isinstance(document, dict):
        raise AugLabError("This is not a pipeline file: expected a mapping with a “transform”.", hint="Export a pipeline from the editor or with albumentations.save.")
    root = document.get("transform", document)
    if not isinstance(root, dict) or root.get("__class_fullname__") not in ("Compose", "albumentations.core.composition.Compose"):
        raise AugLabError("This is not a pipeline file: its “transform” must be a Compose.", hint="Export a pipeline from the editor or with albumentations.save.")
    children = root.get("transforms")
    if not isinstance(children, list):
        raise AugLabError("The Compose has no list of “transforms”.")
    meta = document.get(_META) or {}
    disabled = meta.get("disabled", []) if isinstance(meta, dict) else []
    if not isinstance(disabled, list):
        raise AugLabError("“augmentation_lab.disabled” must be a list.")
    _check_step_count(children, disabled)
    items = [_parse_step(c, _where(i + 1, "?"), group_ok=True) for i, c in enumerate(children)]
    for record in disabled:
        position = record.get("position") if isinstance(record, dict) else None
        if not (isinstance(position, list) and 1 <= len(position) <= 2 and all(isinstance(x, int) and x >= 0 for x in position)):
            raise AugLabError("A disabled step in “augmentation_lab” has no valid position.")
        item = replace(_parse_step(record.get("transform"), _where(position[0] + 1, "?"), group_ok=len(position) == 1),
                       enabled=bool(record.get("enabled", False)))
        if len(position) == 1:
            items.insert(min(position[0], len(items)), item)
        elif position[0] < len(items) and isinstance(items[position[0]], Group):
            block = items[position[0]]
            steps = list(block.steps)  # type: ignore[union-attr]
            steps.insert(min(position[1], len(steps)), item)  # type: ignore[arg-type]
            items[position[0]] = replace(block, steps=tuple(steps))
        else:
            raise AugLabError(f"A disabled step refers to step {position[0] + 1}, which is not a group.")
    seed = document.get("seed", DEFAULT_IMPORT_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise AugLabError(f"The seed must be a whole number from 0 to 2^32-1, not {seed!r}.", field="seed")
    return renumber(Pipeline(tuple(items), seed))


DEFAULT_IMPORT_SEED = 0  # a file without a seed (a plain A.save) starts at 0


def import_text(text: str | bytes, data_format: Format | None = None) -> Pipeline:
    """Parse JSON or YAML text (``data_format=None`` guesses from the first character).

    Raises:
        AugLabError: for a file too large, malformed JSON/YAML (with the line), YAML with Python
            tags, or any problem :func:`from_dict` finds.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise AugLabError(f"The file is larger than {MAX_FILE_BYTES // 1000} kB; a pipeline file is much smaller.")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise AugLabError("The file is not UTF-8 text.", hint="Upload the .json or .yaml file the editor exported.") from None
    if len(text) > MAX_FILE_BYTES:
        raise AugLabError(f"The text is longer than {MAX_FILE_BYTES // 1000} kB; a pipeline file is much smaller.")
    if not text.strip():
        raise AugLabError("The file is empty.")
    data_format = data_format or ("json" if text.lstrip()[:1] in "{[" else "yaml")
    document = parse_document(text, data_format)
    return from_dict(document)


def _non_defaults(step: Step) -> dict[str, Any]:
    """Arguments that are not exactly the constructor's default (equal value and form)."""
    parameters = inspect.signature(catalog.get_transform(step.name).cls.__init__).parameters
    return {k: v for k, v in step.args.items()
            if k not in parameters or as_tuples(parameters[k].default) != v or type(parameters[k].default) is not type(v)}


def _compact_item(item: Item) -> list[Any]:
    if isinstance(item, Step):
        return [item.name, _plain(_non_defaults(item)), item.p, int(item.enabled)]
    return [item.kind, [_compact_item(s) for s in item.steps], item.p, int(item.enabled), item.n, int(item.replace)]


def encode_link(pipeline: Pipeline) -> str:
    """A compact, URL-safe string for a ``?pipeline=`` query parameter."""
    data = json.dumps([pipeline.seed, [_compact_item(i) for i in pipeline.items]], separators=(",", ":"))
    packed = base64.urlsafe_b64encode(zlib.compress(data.encode(), 9)).decode().rstrip("=")
    return f"{LINK_VERSION}.{packed}"


def _expand(entry: Any, where: str, group_ok: bool) -> dict[str, Any]:
    if not isinstance(entry, list) or len(entry) < 4 or not isinstance(entry[0], str):
        raise AugLabError(f"{where} of the link is damaged.", hint="Copy the whole link again.")
    name, body, p, enabled = entry[:4]
    if name in ("OneOf", "SomeOf") and isinstance(body, list):
        if not group_ok:
            raise AugLabError(f"{where}: groups inside groups are not supported by the editor.", hint="Copy the whole link again.")
        n, repl = (entry[4], bool(entry[5])) if len(entry) >= 6 else (1, False)
        return {"__class_fullname__": name, "p": p, "n": n, "replace": repl, "enabled": bool(enabled),
                "transforms": [_expand(c, where, False) for c in body]}
    if not isinstance(body, dict):
        raise AugLabError(f"{where} of the link is damaged.", hint="Copy the whole link again.")
    return {"__class_fullname__": name, "p": p, "enabled": bool(enabled), **body}


def decode_link(text: str) -> Pipeline:
    """The pipeline of a share link's ``pipeline`` parameter.

    Raises:
        AugLabError: when the text is damaged or names a transform the catalog does not offer.
    """
    limit = get_int("AUGLAB_LINK_MAX_CHARS")
    if len(text) > limit:
        raise AugLabError(f"The pipeline link is {len(text):,} characters long, more than the limit of {limit:,} (AUGLAB_LINK_MAX_CHARS).",
                          hint="Share the pipeline as a file instead.")
    version, _, packed = text.strip().partition(".")
    if version != LINK_VERSION or not packed:
        raise AugLabError("The pipeline link is not one this version of the app made.", hint="Copy the whole link again.")
    try:
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, MAX_FILE_BYTES)
        if inflater.unconsumed_tail:
            raise AugLabError("The pipeline link is too large.")
        seed, entries = parse_document(data.decode("utf-8"), "json")
    except (binascii.Error, zlib.error, ValueError, TypeError) as exc:
        raise AugLabError("The pipeline link is damaged.", hint="Copy the whole link again.") from exc
    if not isinstance(entries, list):
        raise AugLabError("The pipeline link is damaged.", hint="Copy the whole link again.")
    expanded = [_expand(entry, f"Step {i + 1}", True) for i, entry in enumerate(entries)]
    _check_step_count(expanded, [])
    items = []
    for i, data in enumerate(expanded):
        if "transforms" in data:
            flags = [c.pop("enabled") for c in data["transforms"]]
        enabled = data.pop("enabled")
        item = _parse_step(data, _where(i + 1, "?"), group_ok=True)
        if isinstance(item, Group):
            item = replace(item, steps=tuple(replace(s, enabled=f) for s, f in zip(item.steps, flags)))  # type: ignore[arg-type]
        items.append(replace(item, enabled=enabled))
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise AugLabError("The pipeline link has an invalid seed.", field="seed")
    return renumber(Pipeline(tuple(items), seed))
