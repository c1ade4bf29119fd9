"""Helpers shared by the AppTest page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(path: str) -> AppTest:
    """Run the app, switch to ``path`` (e.g. ``"pages/demo.py"``) and check it raised nothing."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_texts(at: AppTest) -> str:
    """All markdown, subheaders, captions and alerts on the page, one per line."""
    parts = [m.value for m in at.markdown] + [s.value for s in at.subheader] + [c.value for c in at.caption]
    parts += [x.value for kind in (at.info, at.success, at.warning, at.error) for x in kind]
    return "\n".join(str(p) for p in parts)
