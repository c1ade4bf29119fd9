"""Every widget says what it does: a tooltip (``help=``) on each one, on every page.

Two checks that fail independently: the source of ``pages/`` and ``ui/`` (every branch, even
states a test cannot reach cheaply), and the element tree AppTest renders for every page
(widgets drawn by loops and helpers, e.g. the generated parameter sliders).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Element, Widget

from tests.apptest_helpers import fake_jobs  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
WIDGETS = {"button", "download_button", "page_link", "slider", "select_slider", "selectbox", "multiselect", "radio",
           "checkbox", "toggle", "text_input", "text_area", "number_input", "file_uploader", "segmented_control",
           "pills", "color_picker", "date_input", "time_input", "camera_input", "popover", "form_submit_button"}
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
# Element types the tree reports for widgets (button_group = segmented_control and pills).
TREE_WIDGETS = WIDGETS | {"button_group"}


def test_every_widget_call_in_the_source_has_help():
    missing = []
    for path in sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WIDGETS
                    and not any(k.arg in ("help", None) for k in node.keywords)):  # None: **kwargs passes it on
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}")
    assert missing == [], "widgets without help=:\n" + "\n".join(missing)


def _walk(node: Block | Element):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


pytestmark = pytest.mark.usefixtures("fake_jobs")


@pytest.mark.parametrize("page", PAGES)
def test_every_rendered_widget_has_help(page):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    widgets = [n for n in _walk(at._tree) if isinstance(n, Widget) or getattr(n, "type", None) in TREE_WIDGETS]
    assert widgets, "the walk found no widgets at all, so it would miss a missing tooltip"
    missing = [f"{n.type} {getattr(n.proto, 'label', '')!r}" for n in widgets if not getattr(n.proto, "help", "")]
    assert missing == [], f"{page}: widgets without a tooltip: {missing}"
