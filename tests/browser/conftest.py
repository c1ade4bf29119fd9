"""Browser harness: `streamlit run app.py` on a free loopback port, driven by Debian's Chromium.

Where Chromium is missing the browser tests skip with a reason, except under CI (``CI=true``),
where a missing browser is a failure. Screenshots go to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("AUGLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _require_browser() -> None:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run under CI: {missing}")
        pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(data_dir: Path, *, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` (and its ``workers`` worker processes) on a free loopback port; return it and its URL."""
    _require_browser()
    port = _free_port()
    env = {**os.environ, "AUGLAB_DATA_DIR": str(data_dir), "NO_ALBUMENTATIONS_UPDATE": "1", "AUGLAB_WORKERS": str(workers)}
    log_path = data_dir / "streamlit.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
    stop_app(process)
    pytest.fail(f"streamlit did not become healthy; log: {log_path.read_text()[-2000:]}")


def stop_app(process: subprocess.Popen) -> None:
    """Stop a server started by :func:`start_app`."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> Iterator[str]:
    """Start the real app once per test session and return its URL."""
    process, url = start_app(tmp_path_factory.mktemp("auglab_browser_data"))
    yield url
    stop_app(process)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a context of its own (its own session, as a second person would), closed after the test.

    Pages get a long default timeout: these tests start servers and train on two shared cores.
    """
    contexts = []

    def open_page(timeout_ms: int = 180_000):
        contexts.append(browser.new_context(viewport={"width": 1400, "height": 1500}))
        page = contexts[-1].new_page()
        page.set_default_timeout(timeout_ms)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under artifacts/screenshots/NAME.png and return its path."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def wait_for_app(page, idle_ms: int = 400) -> None:
    """Wait until Streamlit has finished running the script and stayed idle for ``idle_ms``.

    Streamlit shows its "running" status only after a short delay, so "no status widget right
    now" can be true before a rerun has even started; requiring a quiet spell avoids that race.
    """
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        """idle => {
            const busy = !!document.querySelector('[data-testid="stStatusWidget"]');
            const now = performance.now();
            if (busy || window.__auglabIdleSince === undefined) { window.__auglabIdleSince = busy ? undefined : now; return false; }
            return now - window.__auglabIdleSince >= idle;
        }""",
        arg=idle_ms,
        timeout=60_000,
        polling=100,
    )
    page.evaluate("() => { window.__auglabIdleSince = undefined; }")


def wait_idle(page) -> None:
    """Wait until the script has finished: no status widget and no stale element, for 300 ms on end.

    ``wait_for_app`` alone can return before the "Running" indicator shows up; an input made
    while a run is still in flight was sometimes lost in the pipeline journey.
    """
    wait_for_app(page)
    page.evaluate("() => { window.__auglabIdle = 0; }")
    page.wait_for_function(
        "() => { const busy = document.querySelector('[data-testid=\"stStatusWidget\"], [data-stale=\"true\"]'); "
        "if (busy) { window.__auglabIdle = 0; return false; } window.__auglabIdle ||= performance.now(); "
        "return performance.now() - window.__auglabIdle > 300; }", polling=50, timeout=60_000)


def choose(page, label: str, option: str, *, typed: str, settle=None) -> None:
    """Open the Streamlit select box ``label``, type ``typed`` to filter it, click ``option``, wait for the rerun.

    ``settle`` is how to wait afterwards (default :func:`wait_for_app`; journeys whose next input
    may be lost mid-rerun pass :func:`wait_idle`).
    """
    box = page.locator(f"[data-testid='stSelectbox'] input[aria-label='{label}']")
    box.click()
    box.fill(typed)
    page.get_by_role("option", name=option, exact=True).click()
    (settle or wait_for_app)(page)


def set_number(page, label: str, value: int) -> str:
    """Type ``value`` into the number input labelled ``label``, press Enter, wait for the rerun; return what the box shows."""
    box = page.locator(f"input[aria-label='{label}']")
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)
    return box.input_value()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/browser/ carries the ``browser`` marker."""
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
