"""Every page works offline: no request leaves 127.0.0.1 (fonts, icons and scripts are served by the app)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.conftest import wait_for_app


@pytest.mark.parametrize("path", ["", "pipeline", "experiment", "runs", "learn", "demo"])
def test_page_asks_no_other_host(page, app_url, path):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).hostname not in ("127.0.0.1", "localhost") else None)
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    page.wait_for_timeout(500)  # late requests (favicon, fonts) start after the first draw
    assert outside == []
