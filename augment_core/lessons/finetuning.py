"""Lesson 1: fine-tuning a pretrained backbone, and what freezing means.

The diagram is derived from the real model: the backbone comes from the experiment engine's
registry (:func:`augment_core.experiment.backbones.create_backbone`), a new head is added as the
engine does (:func:`~augment_core.experiment.training.build_classifier`), and which parameters
train is read off the engine's own :func:`~augment_core.experiment.training.apply_strategy`.
Because ``apply_strategy`` deep-copies the model, each parameter of a probe copy is first filled
with its own index, so every parameter of the split model can be traced back to its name.

:func:`layer_rows` works on any ``nn.Module`` with any "is this trainable" predicate.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from augment_core.errors import AugLabError
from augment_core.lessons.base import EXPERIMENT, Block, Control, Lesson, LessonView, Link
from augment_core.lessons.figures import AFTER, FROZEN, GOOD, bar_figure, finish

if TYPE_CHECKING:  # torch loads only when the lesson is opened
    from torch import nn

    from augment_core.experiment.models import Classifier

STRATEGY_ORDER = ("head", "last_block", "all")
STRATEGY_LABELS = ("Head only", "Last block + head", "All layers")
NUM_CLASSES = 10  # head size of the diagram; only the head's parameter count depends on it


@dataclass(frozen=True)
class LayerRow:
    """One layer that owns parameters."""

    name: str  # dotted module name, e.g. "backbone.blocks.1.0.0"
    kind: str  # "Conv2d 3×3, 32→48", "BatchNorm2d(48)", "Linear 192→10"
    params: int  # parameters the layer owns directly
    trainable: int  # of which trainable under the strategy


def describe_module(module: nn.Module) -> str:
    """Short words for a layer: type and shape."""
    import torch.nn as nn

    if isinstance(module, nn.Conv2d):
        k = "×".join(str(v) for v in module.kernel_size)
        return f"Conv2d {k}, {module.in_channels}→{module.out_channels}" + (f", stride {module.stride[0]}" if module.stride[0] > 1 else "")
    if isinstance(module, nn.BatchNorm2d):
        return f"BatchNorm2d({module.num_features})"
    if isinstance(module, nn.Linear):
        return f"Linear {module.in_features}→{module.out_features}"
    return type(module).__name__


def layer_rows(model: nn.Module, is_trainable: Callable[[str], bool]) -> list[LayerRow]:
    """Every module that owns parameters, in definition order, with its (trainable) parameter count.

    Args:
        model: Any ``torch.nn.Module``.
        is_trainable: Given a parameter's full dotted name, is it trained?
    """
    rows = []
    for name, module in model.named_modules():
        own = list(module.named_parameters(recurse=False))
        if not own:
            continue
        total = sum(p.numel() for _, p in own)
        trained = sum(p.numel() for pname, p in own if is_trainable(f"{name}.{pname}" if name else pname))
        rows.append(LayerRow(name, describe_module(module), int(total), int(trained)))
    return rows


def trainable_names(model: Classifier, strategy: str) -> set[str]:
    """Names of ``model``'s parameters that the engine's ``apply_strategy`` leaves trainable.

    ``model`` is a :class:`~augment_core.experiment.models.Classifier`; it is not modified.
    """
    import torch

    from augment_core.experiment.training import apply_strategy

    probe = copy.deepcopy(model)
    names = [name for name, _ in probe.named_parameters()]
    with torch.no_grad():
        for index, (_, p) in enumerate(probe.named_parameters()):
            p.fill_(float(index))  # exact in float32 for any model under 16 M tensors
    split = apply_strategy(probe, strategy)
    return {names[int(p.reshape(-1)[0].item())] for p in split.parameters() if p.requires_grad}


def build_model(backbone: str) -> Classifier:
    """The classifier the experiment engine would fine-tune: backbone plus a new head (seed 0).

    Raises:
        AugLabError: when the backbone needs a download that has not happened yet.
    """
    from augment_core.experiment.backbones import get_backbone_info, resnet18_cache_path
    from augment_core.experiment.training import build_classifier

    info = get_backbone_info(backbone)
    if info.downloads and not resnet18_cache_path().exists():
        raise AugLabError(f"{info.title} is downloaded on first use, so its diagram is not available yet.",
                          hint="Run one experiment with it (or pick another backbone) and come back.", field="backbone")
    return build_classifier(backbone, NUM_CLASSES, seed=0)


@lru_cache(maxsize=16)
def strategy_rows(backbone: str, strategy: str) -> tuple[LayerRow, ...]:
    """Layer rows of ``backbone`` + head under ``strategy`` (cached: models do not change while the app runs)."""
    model = build_model(backbone)
    trained = trainable_names(model, strategy)
    return tuple(layer_rows(model, lambda name: name in trained))


def diagram_figure(rows: list[LayerRow] | tuple[LayerRow, ...], title: str) -> go.Figure:
    """One bar per layer, input at the top: length = parameters (log scale), colour = trainable or frozen."""
    labels = [f"{r.name.removeprefix('backbone.')} · {r.kind}" for r in rows]
    fig = go.Figure()
    for state, colour, pick in (("frozen", FROZEN, lambda r: r.trainable == 0), ("trainable", AFTER, lambda r: r.trainable > 0)):
        chosen = [(label, r) for label, r in zip(labels, rows) if pick(r)]
        fig.add_trace(go.Bar(y=[c[0] for c in chosen], x=[c[1].params for c in chosen], orientation="h", name=state,
                             marker_color=colour, text=[f"{c[1].params:,}" for c in chosen], textposition="outside",
                             hovertemplate="%{y}<br>%{x:,} parameters<extra>" + state + "</extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], tickfont={"size": 10})
    fig.update_xaxes(type="log")
    return finish(fig, title, height=max(360, 18 * len(rows) + 90), x_title="parameters (log scale)")


def build(images: list[np.ndarray], *, strategy: str, backbone: str, samples: tuple[str, ...] = ()) -> LessonView:
    """The fine-tuning lesson for one backbone and one strategy."""
    from augment_core.experiment.backbones import get_backbone_info
    from augment_core.experiment.spec import STRATEGIES

    rows = strategy_rows(backbone, strategy)
    total = sum(r.params for r in rows)
    trained = sum(r.trainable for r in rows)
    per_strategy = {s: sum(r.trainable for r in strategy_rows(backbone, s)) for s in STRATEGY_ORDER}
    info = get_backbone_info(backbone)
    label = STRATEGY_LABELS[STRATEGY_ORDER.index(strategy)]
    view_rows = [
        [Block("markdown", f"**Strategy:** {STRATEGIES[strategy]}  \n**{info.title}.** {info.description}", key="strategy_note")],
        [Block("metrics", [
            ("Trainable parameters", f"{trained:,}", "Updated by the optimiser during fine-tuning."),
            ("Frozen parameters", f"{total - trained:,}", "Kept exactly as pre-training left them."),
            ("Share trained", f"{trained / total:.1%}", "Fewer trainable parameters: faster, and less able to overfit a small data set."),
            ("Layers with parameters", f"{len(rows)}", "Convolutions, batch norms and the linear head."),
        ], key="count_metrics")],
        [Block("figure", diagram_figure(rows, f"{info.title}: {label.lower()}"), key="diagram_figure"),
         Block("figure", bar_figure(STRATEGY_LABELS, [per_strategy[s] for s in STRATEGY_ORDER], "Trainable parameters per strategy",
                                    colours=[AFTER if s == strategy else GOOD for s in STRATEGY_ORDER],
                                    text=[f"{per_strategy[s]:,}" for s in STRATEGY_ORDER], y_title="parameters"),
               key="strategy_figure")],
    ]
    links = [Link(EXPERIMENT, f"Fine-tune {backbone} ({label.lower()}) on the experiment page",
                  {"backbone": backbone, "strategy": strategy}, ":material/science:")]
    return LessonView(view_rows, links)


def _backbone_options() -> tuple[str, ...]:
    """The engine's backbones: the default first, those that need a download last."""
    from augment_core.experiment.backbones import DEFAULT_BACKBONE, get_backbone_info, list_backbones

    return tuple(sorted(list_backbones(), key=lambda n: (n != DEFAULT_BACKBONE, get_backbone_info(n).downloads)))


LESSON = Lesson(
    key="finetuning", number=1, title="Fine-tuning", icon=":material/layers:",
    text=(
        "A **pretrained** model has already learnt, from many other pictures, to turn pixels into useful features: "
        "edges in the first layers, textures and parts in the later ones. **Fine-tuning** reuses it: we cut off its old "
        "classifier, add a new *head* for our classes, and train on our (small) data set.\n\n"
        "**Freezing** a layer means its weights are not updated. Freeze everything but the head and only a few "
        "thousand numbers learn: quick, and hard to overfit, but the features cannot adapt. Unfreeze the last block "
        "and the most specific features adapt too; train all layers and everything adapts, which needs more data "
        "(and a gentler learning rate for the backbone). Move the slider: the diagram is the real model the "
        "experiment page trains, coloured by what the strategy trains."
    ),
    controls=(
        Control("strategy", "What trains", "steps", "last_block", "From only the new head to every layer of the backbone.",
                options=STRATEGY_ORDER, labels=STRATEGY_LABELS),
        Control("backbone", "Backbone", "select", _backbone_options()[0], "The pretrained network from the experiment engine's registry.",
                options=_backbone_options()),
    ),
    images=0, default_samples=(), build=build,
)
