"""Links into the experiment page: query parameters named after :class:`ExperimentSpec` fields.

Lessons (and anyone sharing a URL) open the experiment page preconfigured, e.g.
``/experiment?backbone=resnet18-imagenet&strategy=head`` or ``?mixup_alpha=0.4``. This module
reads such parameters into checked values; a value that does not fit is dropped with a message
that says why and which default is used instead. The bounds here are the experiment form's
widget bounds, so a link can never ask for what the form cannot show.

Example:
    >>> link = parse_experiment_link({"seeds": "5", "strategy": "sideways", "lab": "token"})
    >>> link.values
    {'seeds': 5}
    >>> link.problems[0]
    'The link asked for strategy “sideways”, which is not one of head, last_block, all; the default is used.'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from augment_core.experiment import STRATEGIES, list_backbones, spec_limit

# Widget bounds of the experiment form (ui/experiment_form.py reads them from here); the seeds'
# upper bound is the spec's budget (AUGLAB_MAX_SEEDS), so a link never asks for more than a spec accepts.
SEEDS_RANGE: tuple[int, int] = (1, spec_limit("seeds"))
ALPHA_RANGE: tuple[float, float] = (0.0, 2.0)
IMAGE_SIZE_RANGE: tuple[int, int] = (16, 512)
# The ExperimentSpec fields a link may set, in the order the form shows them.
LINK_FIELDS: tuple[str, ...] = ("backbone", "strategy", "seeds", "epochs", "image_size", "mixup_alpha", "cutmix_alpha")


@dataclass(frozen=True)
class ExperimentLink:
    """What a link asks the experiment page for."""

    values: dict[str, Any] = field(default_factory=dict)  # field -> checked value (only fields that fit)
    problems: tuple[str, ...] = ()  # one plain-words message per value that did not fit

    @property
    def empty(self) -> bool:
        """True when the link sets nothing and reports nothing."""
        return not self.values and not self.problems


def _number(name: str, text: str, low: float, high: float, *, integer: bool) -> tuple[Any, str | None]:
    kind = "a whole number" if integer else "a number"
    try:
        value: float = int(text) if integer else float(text)
    except ValueError:
        return None, f"The link asked for {name} “{text}”, which is not {kind}; the default is used."
    if not low <= value <= high:  # also refuses nan
        return None, (f"The link asked for {name} {text}, outside the allowed {low:g} to {high:g}; "
                      "the default is used.")
    return value, None


def parse_experiment_link(params: Mapping[str, str]) -> ExperimentLink:
    """Check the experiment fields in ``params`` (other parameters, like the owner token, are ignored).

    Args:
        params: The page's query parameters (``st.query_params`` or a plain dict of strings).

    Returns:
        The values that fit, converted to the field's type, and a message for each that does not.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in LINK_FIELDS:
        if name not in params:
            continue
        text = str(params[name]).strip()
        problem: str | None = None
        if name == "backbone":
            choices = list_backbones()
            value: Any = text if text in choices else None
            if value is None:
                problem = f"The link asked for backbone “{text}”, which is not one of {', '.join(choices)}; the default is used."
        elif name == "strategy":
            value = text if text in STRATEGIES else None
            if value is None:
                problem = f"The link asked for strategy “{text}”, which is not one of {', '.join(STRATEGIES)}; the default is used."
        elif name == "seeds":
            value, problem = _number(name, text, *SEEDS_RANGE, integer=True)
        elif name == "epochs":  # the form's bound: the AUGLAB_MAX_EPOCHS budget
            value, problem = _number(name, text, 1, spec_limit("epochs"), integer=True)
        elif name == "image_size":
            value, problem = _number("image size", text, *IMAGE_SIZE_RANGE, integer=True)
        else:
            value, problem = _number(name.replace("_alpha", " α").replace("mixup", "MixUp").replace("cutmix", "CutMix"),
                                     text, *ALPHA_RANGE, integer=False)
        if problem is None:
            values[name] = value
        else:
            problems.append(problem)
    return ExperimentLink(values, tuple(problems))


def link_signature(params: Mapping[str, str]) -> str:
    """A stable text of the link's experiment fields, so a page applies each distinct link once."""
    return "&".join(f"{name}={params[name]}" for name in LINK_FIELDS if name in params)
