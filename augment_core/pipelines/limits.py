"""Bounded parsing of pipeline files and links: size, nesting, alias expansion, non-finite numbers.

A pipeline document is small and shallow (a Compose, a list of steps, at most one level of
OneOf/SomeOf, argument tuples). Anything deeper or bigger is refused before it is walked, so a
432-byte YAML "billion laughs" (nested aliases), JSON nested 100,000 deep or ``.inf`` in an
argument ends in an :class:`AugLabError`, never in gigabytes or a ``RecursionError``.

Example:
    >>> document = parse_document('{"transform": {"__class_fullname__": "Compose", "transforms": []}}', "json")
    >>> parse_document("a: &a [1]\\nb: [*a, *a]", "yaml")["b"]
    [[1], [1]]
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

import yaml

from augment_core.errors import AugLabError
from augment_core.settings import get_int

MAX_DEPTH = 24  # nesting of containers; a real file needs about 9 (document, Compose, group, step, argument)
MAX_NODES = 50_000  # values after aliases are expanded; 100 steps of 30 arguments need about 10,000
_HINT = "Export the pipeline from the editor or with albumentations.save; hand-made files must stay small and shallow."


def max_steps() -> int:
    """Most steps (group members included) a file or link may hold (the ``AUGLAB_PIPELINE_MAX_STEPS`` setting)."""
    return get_int("AUGLAB_PIPELINE_MAX_STEPS")


def _yaml_depth_check(text: str) -> None:
    """Refuse deep YAML from its event stream (iterative), before PyYAML's recursive composer sees it."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise AugLabError(f"The YAML is nested more than {MAX_DEPTH} levels deep; a pipeline file is not.", hint=_HINT)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the loader reports malformed YAML with its line


def check_document(document: Any) -> None:
    """Walk ``document`` once, iteratively, refusing depth, expanded size and non-finite numbers.

    Aliases (the same object reached twice) are counted every time they are reached, so the
    count is the size the document would have once expanded; the walk stops at the limit.

    Raises:
        AugLabError: saying which limit was passed.
    """
    stack: list[tuple[Any, int]] = [(document, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise AugLabError(f"The pipeline expands to more than {MAX_NODES:,} values (YAML aliases count each time they "
                              "are used); a pipeline file is much smaller.", hint=_HINT)
        if depth > MAX_DEPTH:
            raise AugLabError(f"The pipeline is nested more than {MAX_DEPTH} levels deep; a pipeline file is not.", hint=_HINT)
        if isinstance(value, float) and not math.isfinite(value):
            raise AugLabError(f"The pipeline contains the number {value}; only finite numbers are accepted.", hint=_HINT)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            stack.extend((k, depth + 1) for k in value.keys() if not isinstance(k, str))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)


def _refuse_constant(name: str) -> float:
    raise AugLabError(f"The JSON contains {name}; only finite numbers are accepted.", hint=_HINT)


def parse_document(text: str, data_format: Literal["json", "yaml"]) -> Any:
    """Parse JSON or YAML text (safe YAML only) and check it with :func:`check_document`.

    Raises:
        AugLabError: for malformed text (with the line), Python tags, or a document over a limit.
    """
    if data_format == "json":
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise AugLabError(f"The JSON is malformed at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from exc
        except RecursionError:
            raise AugLabError(f"The JSON is nested more than {MAX_DEPTH} levels deep; a pipeline file is not.", hint=_HINT) from None
    else:
        _yaml_depth_check(text)
        try:
            document = yaml.safe_load(text)
        except yaml.constructor.ConstructorError as exc:
            raise AugLabError(f"The YAML uses a tag that is not allowed ({exc.problem}); only plain data is read.",
                              hint="Python tags such as !!python/object are never executed; export the pipeline again.") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise AugLabError(f"The YAML is malformed{where}: {getattr(exc, 'problem', None) or exc}.") from exc
        except RecursionError:
            raise AugLabError(f"The YAML is nested more than {MAX_DEPTH} levels deep; a pipeline file is not.", hint=_HINT) from None
    check_document(document)
    return document
