"""The demo's pure parts and the self-contained HTML report, without streamlit.

The report is parsed (html.parser): it must contain the engine's verdict sentence, the figures'
real data, the before/after images as data URIs, the spec and versions, and no reference to
anything on the network.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import pytest

from augment_core.prove.demo import before_after, demo_spec, demo_why, is_demo
from augment_core.experiment import create_spec_preset, load_dataset, run_experiment
from augment_core.prove.report import image_data_uri, report_html


@pytest.fixture(scope="module")
def tiny_result():
    """The demo preset, shrunk for the test only: 2 seeds × 2 epochs on 20 images per class."""
    spec = create_spec_preset("demo", epochs=2, seeds=2, dataset_options={"per_class": 20, "seed": 1234})
    result = run_experiment(spec)
    assert result.status == "completed"
    return result


class _Refs(HTMLParser):
    """Collects every URL-bearing attribute, the scripts' text and the plotly divs."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster") and value:
                self.urls.append((tag, name, value))
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_demo_spec_is_the_engine_preset_unchanged():
    assert demo_spec() == create_spec_preset("demo")
    assert is_demo(create_spec_preset("demo")) and not is_demo(create_spec_preset("demo", epochs=1))
    assert "validation" in demo_why()


def test_before_after_is_seeded_and_uses_the_pipeline():
    spec = replace(demo_spec(), dataset_options={"per_class": 8, "seed": 1})
    dataset = load_dataset(spec)
    one, two = before_after(spec, dataset, seed=3), before_after(spec, dataset, seed=3)
    assert len(one.originals) == len(dataset.class_names) == len(one.captions)
    assert one.captions == list(dataset.class_names)
    for a, b, original in zip(one.augmented, two.augmented, one.originals):
        assert a.shape == original.shape == (spec.image_size, spec.image_size, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, o) for a, o in zip(one.augmented, one.originals))  # the pipeline did something
    other = before_after(spec, dataset, seed=4)
    assert any(not np.array_equal(a, b) for a, b in zip(one.augmented, other.augmented))


def test_report_is_self_contained_and_has_the_verdict_and_data(tiny_result):
    spec = tiny_result.spec
    strip = before_after(spec, load_dataset(spec))
    text = report_html(tiny_result, title="Demo <report>", why=demo_why(), strip=strip)
    refs = _Refs()
    refs.feed(text)
    # Nothing on the network: every src/href is a data URI or a fragment.
    external = [(t, n, v) for t, n, v in refs.urls if not v.startswith(("data:", "#"))]
    assert external == [], external
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)\s*=\s*[\"']?(https?:)?//", text, re.I)
    # plotly.js itself is inline, exactly once.
    assert sum("plotly.js v" in s or "Plotly" in s[:2000] for s in refs.scripts if len(s) > 1_000_000) == 1
    # The engine's verdict sentence, escaped but verbatim.
    sentence = tiny_result.comparison["sentence"]
    assert sentence and sentence.replace("“", "").replace("”", "") in text.replace("“", "").replace("”", "")
    # The figures carry the real numbers: the mean final validation accuracy of each arm is in the JSON.
    for arm in ("plain", "augmented"):
        finals = [e.val_acc * 100 for e in tiny_result.epochs if e.arm == arm and e.epoch == spec.epochs]
        mean = float(np.mean(finals))
        assert '"y":[' in text and repr(mean) in text, (arm, mean)
    assert text.count("Plotly.newPlot") == 2
    # Before/after images are embedded PNGs, one per class in each row.
    assert len(refs.images) == 2 * len(strip.originals) and all(s.startswith("data:image/png;base64,") for s in refs.images)
    # The spec round-trips from the report, and versions are listed; the title is escaped.
    spec_text = re.search(r'<pre id="spec">(.*?)</pre>', text, re.S).group(1)
    import html as html_lib

    assert json.loads(html_lib.unescape(spec_text)) == spec.to_dict()
    assert "albumentations" in text and "torch" in text and "plotly" in text
    assert "Demo &lt;report&gt;" in text and "Demo <report>" not in text


def test_report_without_epochs_says_so():
    spec = create_spec_preset("demo", epochs=1, seeds=1)
    from augment_core.experiment import ExperimentResult

    text = report_html(ExperimentResult(spec, status="cancelled"), title="Empty")
    assert "No epoch finished" in text and "no verdict" in text and "Plotly.newPlot" not in text


def test_image_data_uri_round_trips():
    import base64
    import io

    from PIL import Image

    image = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    uri = image_data_uri(image, side=32)
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert decoded.shape == (32, 32, 3)
    np.testing.assert_array_equal(decoded[::4, ::4], image)
