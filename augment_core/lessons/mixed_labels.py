"""Lesson 5: MixUp and CutMix blend two pictures *and* their labels.

The mixing itself is :mod:`augment_core.pipelines.mixing`, the code the experiment engine trains with;
this lesson runs it on a batch of the two chosen pictures and shows the soft labels it returns.

With a batch of two, the random partner permutation can pair a picture with itself (then
nothing is mixed). The lesson wants to show a real mix, so it draws from the generator
``default_rng([seed, attempt])`` for attempt 0, 1, 2… and keeps the first draw in which the
first picture is paired with the second: still fully determined by ``seed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
import plotly.graph_objects as go

from augment_core.lessons.base import EXPERIMENT, Block, Control, Lesson, LessonView, Link, square_crop
from augment_core.lessons.figures import ACCENT, AFTER, BEFORE, GOOD, curve_figure, finish

if TYPE_CHECKING:  # torch loads only when the lesson is opened
    from augment_core.pipelines.mixing import MixResult

SIDE = 192  # both pictures are cropped square and resized to this side so they can be mixed


def prepare_pair(first: np.ndarray, second: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Two pictures as a (2, side, side, 3) uint8 batch: centre squares, resized."""
    return np.stack([cv2.resize(square_crop(im), (side, side), interpolation=cv2.INTER_AREA) for im in (first, second)])


def mix_pair(batch: np.ndarray, kind: str, alpha: float, seed: int) -> MixResult:
    """MixUp or CutMix (``kind``) of picture 0 with picture 1, labels 0 and 1; returns the engine's ``MixResult``."""
    from augment_core.pipelines import mixing

    fn = mixing.mixup if kind == "mixup" else mixing.cutmix
    labels = np.array([0, 1])
    result = None
    for attempt in range(64):
        result = fn(batch, labels, 2, alpha=alpha, rng=np.random.default_rng([seed, attempt]))
        if int(result.partner[0]) == 1:
            return result
    return result  # pragma: no cover - 64 self-pairings in a row has probability 2**-64


def beta_figure(alpha: float, lams: dict[str, float]) -> go.Figure:
    """Density of λ ~ Beta(α, α) with the λ each method drew marked on it."""
    from scipy import stats

    x = np.linspace(0.005, 0.995, 199)
    density = stats.beta.pdf(x, alpha, alpha)
    fig = curve_figure(x, {f"Beta({alpha:g}, {alpha:g})": np.minimum(density, 6.0)}, "How λ is drawn",
                       colours=(BEFORE,), x_title="λ (weight of the first picture)", y_title="density (capped at 6)")
    fig.update_yaxes(range=[0.0, max(2.0, 1.1 * float(np.minimum(density, 6.0).max()))])  # a flat Beta(1, 1) stays flat
    for (name, lam), colour in zip(lams.items(), (ACCENT, AFTER)):
        fig.add_vline(x=lam, line={"color": colour, "width": 3}, annotation_text=f"{name} λ = {lam:.2f}")
    return fig


def label_figure(weights: dict[str, tuple[float, float]], names: tuple[str, str]) -> go.Figure:
    """Stacked bars: how much of each label every mixed picture carries."""
    fig = go.Figure()
    for i, (name, colour) in enumerate(zip(names, (GOOD, AFTER))):
        values = [w[i] for w in weights.values()]
        fig.add_trace(go.Bar(x=list(weights), y=values, name=name, marker_color=colour, text=[f"{v:.2f}" for v in values]))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(range=[0, 1])
    return finish(fig, "The label is mixed in the same proportion", y_title="label weight")


def target_figure(lam: float) -> go.Figure:
    """Along the path from picture B (λ=0) to picture A (λ=1): the hard label versus the MixUp label."""
    t = np.linspace(0, 1, 101)
    fig = curve_figure(t, {"hard label (no mixing)": (t >= 0.5).astype(float), "MixUp label = λ": t},
                       "What the model is asked to predict between two examples", colours=(BEFORE, ACCENT),
                       marker=(lam, lam), x_title="λ: share of picture A in the input", y_title="target probability of A")
    return fig


def build(images: list[np.ndarray], *, alpha: float, seed: int, samples: tuple[str, ...] = ()) -> LessonView:
    """The mixing lesson for two pictures and one set of slider values."""
    from augment_core.pipelines import mixing

    batch = prepare_pair(images[0], images[1])
    names = tuple((list(samples) + ["your picture 1", "your picture 2"])[:2])
    if names[0] == names[1]:
        names = (f"{names[0]} (1)", f"{names[1]} (2)")
    mixed = mix_pair(batch, "mixup", alpha, seed)
    cut = mix_pair(batch, "cutmix", alpha, seed)
    mixed_label = mixing.describe_mix(mixed, 0, list(names))
    cut_label = mixing.describe_mix(cut, 0, list(names))
    weights = {"MixUp": tuple(float(v) for v in mixed.targets[0]), "CutMix": tuple(float(v) for v in cut.targets[0])}
    boxed = cut.images[0].copy()
    y0, y1, x0, x1 = cut.box
    cv2.rectangle(boxed, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), (255, 255, 0), 2)
    rows = [
        [Block("image", batch[0], caption=f"A: {names[0]} (label 1.00 {names[0]})", key="first"),
         Block("image", batch[1], caption=f"B: {names[1]} (label 1.00 {names[1]})", key="second"),
         Block("image", mixed.images[0], caption=f"MixUp: {mixed_label}", key="mixup_image"),
         Block("image", boxed, caption=f"CutMix: {cut_label}", key="cutmix_image")],
        [Block("latex", rf"\tilde x = \lambda x_A + (1-\lambda) x_B,\quad \tilde y = \lambda y_A + (1-\lambda) y_B,"
                        rf"\quad \lambda_{{\text{{MixUp}}}} = {mixed.lam:.2f},\ \lambda_{{\text{{CutMix}}}} = {cut.lam:.2f}",
               key="mix_latex")],
        [Block("figure", beta_figure(alpha, {"MixUp": mixed.lam, "CutMix": cut.lam}), key="beta_figure"),
         Block("figure", label_figure(weights, names), key="label_figure")],
        [Block("figure", target_figure(mixed.lam), key="target_figure"),
         Block("markdown",
               "**Why mixed labels regularise.** Without mixing, the only targets are 0 and 1, so nothing stops the "
               "model from jumping from *certainly A* to *certainly B* anywhere between two examples, and from "
               "being over-confident. With mixing, a picture that is 70 % A must be predicted 70 % A: the model is "
               "trained to change its answer *gradually* between classes, which makes it less confident on "
               "in-between inputs and harder to overfit to a few training images. CutMix keeps every pixel real "
               f"(the box covers {1 - cut.lam:.0%} of picture A), so its label weight is the share of area.",
               key="why_note")],
    ]
    links = [
        Link(EXPERIMENT, "Train with MixUp on the experiment page", {"mixup_alpha": f"{alpha:g}"}, ":material/science:"),
        Link(EXPERIMENT, "Train with CutMix on the experiment page", {"cutmix_alpha": f"{alpha:g}"}, ":material/science:"),
    ]
    return LessonView(rows, links)


LESSON = Lesson(
    key="mixing", number=5, title="MixUp and CutMix", icon=":material/join:",
    text=(
        "Most augmentations change one picture and keep its label. **MixUp** and **CutMix** take *two* "
        "training pictures and blend them, and they blend the labels in the same proportion λ. MixUp "
        "overlays the pictures like a double exposure; CutMix pastes a box of one into the other. λ is "
        "drawn at random from a Beta(α, α) distribution: with a small α most draws are close to 0 or 1 "
        "(mostly one picture), with α = 1 every mix is equally likely.\n\n"
        "Pick two pictures (or upload your own), then move α and the seed."
    ),
    controls=(
        Control("alpha", "α of Beta(α, α)", "slider", 1.0, "Small α: mostly one picture. α = 1: any mix equally likely. "
                "Large α: close to half and half.", 0.1, 4.0, 0.1),
        Control("seed", "Seed", "slider", 3, "Same seed, same λ and the same CutMix box.", 0, 99, 1),
    ),
    images=2, default_samples=("Cat", "Coffee"), build=build,
)
