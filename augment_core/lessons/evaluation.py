"""Lesson 7: evaluating augmentation, with a simulation of repeated paired runs.

The simulated world: each seed (a split, an initialisation, a batch order) has its own
difficulty, shared by both arms because they run on the same split and seeds; augmentation
adds ``effect`` points; each training run adds its own noise. The verdict is computed with
:func:`augment_core.experiment.stats.paired_comparison`, the code behind the experiment page's
verdict, so what the lesson teaches is how to read that page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from augment_core.lessons.base import EXPERIMENT, Block, Control, Lesson, LessonView, Link
from augment_core.lessons.figures import ACCENT, AFTER, BEFORE, GOOD, curve_figure, finish

BASE_ACCURACY = 80.0  # points: the plain arm's average accuracy in the simulation
RUN_NOISE = 1.0  # points: run-to-run noise of one training run, on top of the seed's difficulty


@dataclass(frozen=True)
class Simulation:
    """Final accuracies (points, 0-100) of both arms over ``n`` seeds."""

    plain: np.ndarray  # (n,)
    augmented: np.ndarray  # (n,)


def simulate(n: int, effect: float, seed_spread: float, *, seed: int, run_noise: float = RUN_NOISE) -> Simulation:
    """Accuracies of both arms over ``n`` seeds: shared seed difficulty, own run noise, plus ``effect``."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, seed_spread, n)  # same split and seeds for both arms
    plain = BASE_ACCURACY + difficulty + rng.normal(0.0, run_noise, n)
    augmented = BASE_ACCURACY + effect + difficulty + rng.normal(0.0, run_noise, n)
    return Simulation(plain, augmented)


def paired_interval(sim: Simulation, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean paired difference and its t-interval (points), via the experiment engine's statistics."""
    from augment_core.experiment.stats import paired_comparison

    c = paired_comparison(list(sim.plain / 100), list(sim.augmented / 100), confidence=confidence)
    return c.mean, c.ci_low, c.ci_high


def unpaired_interval(sim: Simulation, confidence: float = 0.95) -> tuple[float, float, float]:
    """Difference of means and Welch's t-interval, as if the arms had used different seeds."""
    from scipy import stats

    result = stats.ttest_ind(sim.augmented, sim.plain, equal_var=False)
    ci = result.confidence_interval(confidence)
    return float(sim.augmented.mean() - sim.plain.mean()), float(ci.low), float(ci.high)


def expected_half_width(n: np.ndarray, sd: float, confidence: float = 0.95) -> np.ndarray:
    """Expected half-width of a t-interval of a mean of ``n`` values with standard deviation ``sd``.

    Uses E[s] = c4(n)·σ, so the curve is exact on average, not only for large ``n``.
    """
    from scipy import special, stats

    n = np.asarray(n, dtype=float)
    c4 = np.sqrt(2.0 / (n - 1)) * np.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))
    return stats.t.ppf(0.5 + confidence / 2, n - 1) * c4 * sd / np.sqrt(n)


def verdict(low: float, high: float) -> str:
    """How to read an interval of "augmented minus plain"."""
    if low > 0:
        return "helped"
    if high < 0:
        return "hurt"
    return "no clear difference"


def runs_figure(sim: Simulation) -> go.Figure:
    """Each seed's two accuracies joined by a line: the pairs move together."""
    fig = go.Figure()
    for i, (p, a) in enumerate(zip(sim.plain, sim.augmented)):
        fig.add_trace(go.Scatter(x=["without", "with"], y=[p, a], mode="lines+markers", showlegend=False,
                                 line={"color": GOOD if a > p else AFTER, "width": 1.5}, marker={"size": 7},
                                 hovertext=f"seed {i}: {p:.1f} → {a:.1f}", hoverinfo="text"))
    return finish(fig, "Each line is one seed: same split, same initialisation", y_title="validation accuracy (%)")


def interval_figure(intervals: dict[str, tuple[float, float, float]], effect: float) -> go.Figure:
    """Point estimates with their intervals, against 0 (no effect) and the true effect."""
    names = list(intervals)
    means = [intervals[k][0] for k in names]
    fig = go.Figure(go.Scatter(
        x=means, y=names, mode="markers", marker={"size": 12, "color": [ACCENT, BEFORE][: len(names)]},
        error_x={"type": "data", "symmetric": False, "array": [intervals[k][2] - intervals[k][0] for k in names],
                 "arrayminus": [intervals[k][0] - intervals[k][1] for k in names], "thickness": 3, "width": 8,
                 "color": ACCENT},
        showlegend=False))
    fig.add_vline(x=0, line={"color": AFTER, "dash": "dash"}, annotation_text="no effect", annotation_position="top left")
    fig.add_vline(x=effect, line={"color": GOOD, "dash": "dot"}, annotation_text="true effect", annotation_position="bottom right")
    return finish(fig, "95 % intervals of “with minus without”", x_title="difference (points)", height=280)


def build(images: list[np.ndarray], *, seeds: int, effect: float, seed_spread: float, seed: int,
          samples: tuple[str, ...] = ()) -> LessonView:
    """The evaluation lesson for one setting of the simulation."""
    sim = simulate(seeds, effect, seed_spread, seed=seed)
    paired = paired_interval(sim)
    unpaired = unpaired_interval(sim)
    ns = np.arange(2, 31)
    diff_sd = float(np.sqrt(2) * RUN_NOISE)
    arm_sd = float(np.sqrt(seed_spread**2 + RUN_NOISE**2))
    widths = curve_figure(ns, {"paired (same seeds)": expected_half_width(ns, diff_sd),
                               "unpaired (different seeds)": expected_half_width(ns, np.sqrt(2) * arm_sd)},
                          "More seeds, narrower interval: ± half-width on average", colours=(ACCENT, BEFORE),
                          marker=(seeds, (paired[2] - paired[1]) / 2), x_title="number of seeds", y_title="± points (log scale)")
    widths.update_yaxes(type="log")
    answer = verdict(paired[1], paired[2])
    rows = [
        [Block("figure", runs_figure(sim), key="runs_figure"),
         Block("figure", interval_figure({"paired": paired, "unpaired": unpaired}, effect), key="interval_figure")],
        [Block("metrics", [
            ("Mean difference", f"{paired[0]:+.2f} points", "Average over seeds of (with − without)."),
            ("95 % interval (paired)", f"{paired[1]:+.2f} to {paired[2]:+.2f}", "Where the true effect plausibly lies."),
            ("95 % interval (unpaired)", f"{unpaired[1]:+.2f} to {unpaired[2]:+.2f}",
             "What the same runs would tell you if the arms had not shared seeds."),
        ], key="interval_metrics")],
        [Block("markdown", f"**Verdict: {answer}.** " + {
            "helped": "The whole interval is above 0: these runs show augmentation helped.",
            "hurt": "The whole interval is below 0: these runs show augmentation hurt.",
            "no clear difference": "The interval contains 0: these runs cannot tell a gain from a loss."}[answer],
            key="verdict_note")],
        [Block("latex", rf"\bar d \pm t_{{0.975,\,n-1}}\frac{{s_d}}{{\sqrt n}} = {paired[0]:+.2f} \pm {(paired[2] - paired[1]) / 2:.2f}"
                        rf"\quad (n = {seeds})", key="interval_latex")],
        [Block("figure", widths, key="width_figure"),
         Block("markdown",
               "**How to read it.** The interval is a range of effects that agree with these runs. If it lies wholly above 0, "
               "augmentation helped; wholly below, it hurt; if it straddles 0, these runs cannot tell, so more seeds (or "
               "k-fold cross-validation, which also varies the split) will narrow it. A narrow interval near 0 is a real "
               "answer too: the effect, if any, is small. Never pick the best of several runs: that measures luck.",
               key="reading_note")],
    ]
    links = [Link(EXPERIMENT, f"Run a real comparison over {seeds} seeds", {"seeds": str(seeds)}, ":material/science:")]
    return LessonView(rows, links)


LESSON = Lesson(
    key="evaluation", number=7, title="Evaluating augmentation", icon=":material/query_stats:",
    text=(
        "Does augmentation help *your* model on *your* data? Train twice, once **with** and once **without**, and keep "
        "everything else identical: the same train/validation split, the same initial weights, the same batch order. "
        "Then the only difference between the two numbers is the augmentation.\n\n"
        "One pair of runs is not enough: accuracy moves by a point or more from one seed to the next. Repeat over "
        "several seeds (or folds of a cross-validation), take the difference **within each pair**, and report the mean "
        "difference with a confidence interval. Pairing removes the seed-to-seed spread that both arms share, which is "
        "why its interval is much narrower than comparing two unrelated sets of runs. This is a simulation: move the "
        "sliders and watch the interval."
    ),
    controls=(
        Control("seeds", "Number of seeds", "slider", 5, "Repetitions of the with/without pair.", 2, 30, 1),
        Control("effect", "True effect of augmentation (points)", "slider", 1.5, "What augmentation really adds in this simulation.",
                -3.0, 5.0, 0.25),
        Control("seed_spread", "Seed-to-seed spread (points)", "slider", 3.0, "How much one split and initialisation differ from "
                "another; it hits both arms alike.", 0.0, 6.0, 0.25),
        Control("seed", "Simulation seed", "slider", 0, "Draw another set of runs.", 0, 99, 1),
    ),
    images=0, default_samples=(), build=build,
)
