"""Links into the experiment page: the parser (no streamlit) and the preconfigured form (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from augment_core.experiment import STRATEGIES, ExperimentSpec, list_backbones
from augment_core.prove.links import LINK_FIELDS, parse_experiment_link
from tests.apptest_helpers import fake_jobs  # noqa: F401  (fixture)

APP = str(Path(__file__).resolve().parents[1] / "app.py")


pytestmark = pytest.mark.usefixtures("fake_jobs")


def test_link_fields_are_experiment_spec_fields():
    assert set(LINK_FIELDS) <= set(ExperimentSpec.__dataclass_fields__)


@pytest.mark.parametrize("params, values", [
    ({"backbone": list_backbones()[-1], "strategy": "head"}, {"backbone": list_backbones()[-1], "strategy": "head"}),
    ({"seeds": "5", "lab": "token", "lesson": "x"}, {"seeds": 5}),
    ({"mixup_alpha": "0.4", "cutmix_alpha": "1"}, {"mixup_alpha": 0.4, "cutmix_alpha": 1.0}),
])
def test_values_that_fit_are_converted(params, values):
    link = parse_experiment_link(params)
    assert link.values == values and link.problems == ()


@pytest.mark.parametrize("params, words", [
    ({"backbone": "vgg99"}, "vgg99"), ({"strategy": "sideways"}, "sideways"), ({"seeds": "three"}, "whole number"),
    ({"seeds": "0"}, "outside"), ({"seeds": "500"}, "outside"), ({"mixup_alpha": "-1"}, "MixUp α"),
    ({"cutmix_alpha": "nan"}, "outside"), ({"cutmix_alpha": "lots"}, "not a number"),
])
def test_values_that_do_not_fit_are_dropped_with_a_message(params, words):
    link = parse_experiment_link(params)
    assert link.values == {} and len(link.problems) == 1
    assert words in link.problems[0] and "default is used" in link.problems[0]


def _open_experiment(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/experiment.py")
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lesson_links_preconfigure_the_form():
    """Every field a lesson link may name (backbone, strategy, seeds, mixup_alpha, cutmix_alpha) sets its widget."""
    at = _open_experiment({"backbone": "smallcnn-scratch", "strategy": "head", "seeds": "5", "mixup_alpha": "0.4",
                           "cutmix_alpha": "1.0"})
    assert at.selectbox(key="exp:shapes:backbone").value == "smallcnn-scratch"
    assert at.selectbox(key="exp:shapes:strategy").value == "head"
    assert at.number_input(key="exp:shapes:seeds").value == 5
    assert at.number_input(key="exp:mixup").value == pytest.approx(0.4)
    assert at.number_input(key="exp:cutmix").value == pytest.approx(1.0)
    assert not at.warning or all("link" not in w.value for w in at.warning)
    # The user can still change a preset value; the link is not applied again on the next run.
    at.number_input(key="exp:shapes:seeds").set_value(7).run()
    assert at.number_input(key="exp:shapes:seeds").value == 7


def test_a_value_that_does_not_fit_gets_a_message_and_the_default():
    at = _open_experiment({"strategy": "sideways", "seeds": "99"})
    warnings = " ".join(w.value for w in at.warning)
    assert "sideways" in warnings and "99" in warnings and "default is used" in warnings
    assert at.selectbox(key="exp:shapes:strategy").value == "last_block"  # the demo preset's default
    assert at.number_input(key="exp:shapes:seeds").value == 3
    assert set(STRATEGIES) >= {"head", "last_block"}
