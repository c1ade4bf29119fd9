"""Start time in a real browser: from "server healthy" to the Playground fully drawn. Prints; asserts nothing.

Run: ``python -m benchmarks.start_browser [repeats]``. Each repeat starts a fresh ``streamlit run
app.py`` on a free loopback port (so the first page pays for every import), waits for
``/_stcore/health``, opens the Playground in Debian's Chromium and stops the clock when the
sample grid's images have all loaded and the script has stopped running. It also lists every
request the page made to a host other than 127.0.0.1 (the app must work offline).

Figures depend on the machine and on what else runs on it: say so next to any figure you quote.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

DRAWN = """() => {
    // Tiles may be st.image elements or inline <img> inside one st.html block: count every image in the page.
    const imgs = [...document.querySelectorAll('[data-testid="stMain"] img')];
    const busy = document.querySelector('[data-testid="stStatusWidget"]');
    return imgs.length >= 8 && imgs.every(i => i.complete && i.naturalWidth > 0) && !busy;
}"""


def measure(browser) -> tuple[float, list[str]]:
    """Seconds from healthy server to drawn Playground, and the external hosts the page asked for."""
    with tempfile.TemporaryDirectory() as data:
        process, url = start_app(Path(data))  # returns once /_stcore/health answers
        healthy = time.perf_counter()
        external: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: external.append(urlparse(r.url).netloc)
                    if urlparse(r.url).hostname not in ("127.0.0.1", "localhost", None) and not r.url.startswith("data:") else None)
            page.goto(url)
            page.wait_for_function(DRAWN, timeout=180_000, polling=50)
            seconds = time.perf_counter() - healthy
            page.close()
        finally:
            stop_app(process)
    return seconds, sorted(set(external))


def main(repeats: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        times, hosts = [], set()
        for i in range(repeats):
            seconds, external = measure(browser)
            times.append(seconds)
            hosts.update(external)
            print(f"run {i + 1}: Playground fully drawn {seconds:.2f} s after the server was healthy")
        browser.close()
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    print(f"median {statistics.median(times):.2f} s over {repeats} fresh servers "
          f"(load {load:.1f} per core now: other work on this machine slows it)")
    print("requests to other hosts: " + (", ".join(sorted(hosts)) if hosts else "none"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
