"""Helpers shared by the AppTest page tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from augment_core.prove import jobs
from tests.helpers import make_fake

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


@pytest.fixture
def fake_jobs() -> Iterator[jobs.JobManager]:
    """A fresh server-wide job manager whose runs are quick fakes (no training); reset afterwards.

    Use with ``pytestmark = pytest.mark.usefixtures("fake_jobs")`` after importing it.
    """
    manager = jobs.JobManager(run=make_fake(threading.Event()))
    jobs.set_default_manager(manager)
    yield manager
    jobs.set_default_manager(None)
