"""Playground slider moves in a real browser, split into phases, against the Streamlit floor.

Run: ``python -m benchmarks.preview_browser [--moves 20] [--rounds 1]``, or ``--with-run`` for the
Playground's latency with no run going and then with the demo training in the app's worker process
(one app, one browser page, in one run). Prints figures; asserts
nothing about time. Two servers are started on free loopback ports: the app (``app.py``) and
``benchmarks/preview_floor.py``, a script that redraws 8 precomputed tiles of the same pixel size
on each slider move and does no work, which is the best any Streamlit page can do here. Debian's
Chromium (``AUGLAB_CHROMIUM``, default ``/usr/bin/chromium``) loads each; on the app, a
12-megapixel EXIF-rotated phone photo generated here is uploaded, Rotate is picked and the
*Limit* slider is moved one step at a time with the keyboard. The two pages are measured in
turns within each round, so machine load hits both alike.

Each move is timed from the browser's keydown event (Performance API) to the frame in which all
8 new tiles are loaded; in between: the rerun message leaving the browser (a wrapped WebSocket),
the fragment's server timings (``AUGLAB_PREVIEW_TRACE``: start, tiles built and encoded, end),
the last message from the server, and the tile fetches (Resource Timing of ``/media/`` URLs).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.preview import phone_photo

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("AUGLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

# Wraps the page's WebSocket and records when messages leave and arrive, and when images load.
INIT_SCRIPT = """
(() => {
  performance.setResourceTimingBufferSize(100000);
  const bench = window.__bench = {sent: [], recv: [], key: 0};
  const Native = window.WebSocket;
  class Traced extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => bench.recv.push(performance.now()));
    }
    send(data) { bench.sent.push(performance.now()); return super.send(data); }
  }
  window.WebSocket = Traced;
  document.addEventListener('keydown', () => { bench.key = performance.now(); }, true);
  bench.long = [];  // main-thread tasks over 50 ms: time the page's own JavaScript held the thread
  new PerformanceObserver(list => { for (const e of list.getEntries()) bench.long.push([e.startTime, e.duration]); })
    .observe({type: 'longtask', buffered: true});
})();
"""

# Resolves at the first animation frame in which every tile shows an image that was not there before.
WAIT_FOR_TILES = """
async ({before, want, deadline}) => {
  const t0 = performance.now();
  while (performance.now() - t0 < deadline) {
    await new Promise(r => requestAnimationFrame(r));
    const tiles = [...document.querySelectorAll('[data-testid="stImage"], [data-testid="auglabTile"]')]
      .filter(e => !(e.textContent || '').startsWith('original'));
    const imgs = tiles.map(e => e.querySelector('img')).filter(Boolean);
    if (imgs.length !== want || imgs.some(i => before.includes(i.src))) continue;
    if (!imgs.every(i => i.complete && i.naturalWidth > 0)) continue;
    const painted = performance.now();
    const media = performance.getEntriesByType('resource').filter(r => r.name.includes('/media/') && r.startTime >= window.__bench.key);
    return {
      painted, key: window.__bench.key,
      sent: window.__bench.sent.find(t => t >= window.__bench.key) ?? null,
      recv: window.__bench.recv.filter(t => t >= window.__bench.key && t <= painted),
      fetch_start: media.length ? Math.min(...media.map(r => r.startTime)) : null,
      fetch_end: media.length ? Math.max(...media.map(r => r.responseEnd)) : null,
      busy: window.__bench.long.filter(([s]) => s >= window.__bench.key && s <= painted).reduce((a, [, d]) => a + d, 0),
      fetched: media.length, bytes: media.reduce((s, r) => s + (r.encodedBodySize || 0), 0),
      srcs: imgs.map(i => i.src), captions: tiles.map(e => e.textContent),
      natural: imgs.map(i => [i.naturalWidth, i.naturalHeight]), shown: imgs.map(i => [i.clientWidth, i.clientHeight]),
      origin: performance.timeOrigin,
    };
  }
  return null;
}
"""

PHASES = (
    ("slider event → rerun message sent", "key", "sent"),
    ("→ fragment rerun starts (server)", "sent", "start"),
    ("→ widgets drawn, tiles built", "start", "built_raw"),
    ("→ tiles JPEG-encoded", "built_raw", "built"),
    ("→ fragment finished (elements, deltas)", "built", "end"),
    ("→ last message in the browser", "end", "recv_last"),
    ("→ tile images fetched over HTTP", "recv_last", "fetch_end"),
    ("→ decoded and painted", "fetch_end", "painted"),
    ("(no fetches) last message → painted", "recv_last", "painted"),
)


@dataclass
class Server:
    """One ``streamlit run`` on a free loopback port."""

    process: subprocess.Popen
    url: str


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(script: str, env: dict[str, str], log: Path) -> Server:
    """Start ``streamlit run script`` and wait until it answers its health check."""
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return Server(process, url)
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"{script} did not start; see {log}")


def wait_idle(page, quiet_ms: int = 500) -> None:
    """Wait until Streamlit's running indicator has been gone for ``quiet_ms``."""
    page.wait_for_function(
        """q => { const busy = !!document.querySelector('[data-testid="stStatusWidget"]'); const now = performance.now();
                 if (busy || window.__idle === undefined) { window.__idle = busy ? undefined : now; return false; }
                 return now - window.__idle >= q; }""", arg=quiet_ms, timeout=120_000, polling=50)
    page.evaluate("() => { window.__idle = undefined; }")


def tile_srcs(page) -> list[str]:
    """The ``src`` of every tile image now on the page (originals excluded)."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stImage"], [data-testid="auglabTile"]')]
        .filter(e => !(e.textContent || '').startsWith('original')).map(e => e.querySelector('img')?.src).filter(Boolean)""")


def read_trace(path: Path, done: int) -> list[dict]:
    """Trace lines written after the first ``done``."""
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines[done:]]


def measure_moves(page, slider_label: str, trace: Path, moves: int, key: str = "ArrowRight") -> list[dict]:
    """Press ``key`` on the slider ``moves`` times, waiting for the new tiles after each press."""
    thumb = page.locator(f"input[aria-label='{slider_label}']")
    thumb.focus()
    records = []
    for _ in range(moves):
        wait_idle(page, 300)
        before = tile_srcs(page)
        done = len(trace.read_text().splitlines()) if trace.exists() else 0
        page.keyboard.press(key)
        result = page.evaluate(WAIT_FOR_TILES, {"before": before, "want": len(before), "deadline": 30_000})
        if result is None:
            raise RuntimeError("the new tiles did not appear within 30 s")
        wait_idle(page, 200)  # the fragment has finished writing its trace line
        lines = read_trace(trace, done)
        server = lines[-1] if lines else {}
        origin = result["origin"]

        def browser_ms(epoch_s: float | None) -> float | None:
            return None if epoch_s is None else epoch_s * 1000 - origin

        record = {
            "key": result["key"], "sent": result["sent"], "painted": result["painted"],
            "start": browser_ms(server.get("start")), "built": browser_ms(server.get("built")),
            "built_raw": browser_ms(server.get("built")) - server.get("encode_ms", 0) if server.get("built") else None,
            "end": browser_ms(server.get("end")),
            "recv_last": max(result["recv"]) if result["recv"] else None,
            "fetch_end": result["fetch_end"], "fetched": result["fetched"], "busy": result["busy"], "bytes": result["bytes"],
            "natural": result["natural"][0], "shown": result["shown"][0], "reruns": len(lines),
            "grid_ms": server.get("grid_ms"), "encode_ms": server.get("encode_ms"), "transform_ms": server.get("transform_ms"),
        }
        records.append(record)
    return records


def open_playground(browser, url: str, photo: bytes):
    """The app with the phone photo as the only image and Rotate picked (the default)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.wait_for_selector("[data-testid='stImage']")
    wait_idle(page)
    page.set_input_files("[data-testid='stFileUploaderDropzoneInput']", files=[{"name": "phone.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.wait_for_selector("text=original · phone.jpg")
    wait_idle(page)
    page.locator("[data-testid='stMultiSelect'] input").first.press("Backspace")  # drop the built-in sample
    page.wait_for_function("() => !document.body.innerText.includes('original · Labelled grid')")
    wait_idle(page)
    return context, page


def open_floor(browser, url: str):
    """The floor script, settled."""
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stImage\"] img, [data-testid=\"auglabTile\"] img').length === 8")
    wait_idle(page)
    return context, page


def total(records: list[dict]) -> list[float]:
    """Slider event to painted tiles, per move, in ms."""
    return [r["painted"] - r["key"] for r in records]


def p95(values: list[float]) -> float:
    """95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def phase_table(records: list[dict]) -> list[tuple[str, float | None, float | None]]:
    """(phase, median ms, p95 ms) for each consecutive pair of milestones that every move has."""
    rows = []
    for label, a, b in PHASES:
        values = [r[b] - r[a] for r in records if r.get(a) is not None and r.get(b) is not None
                  and not (label.startswith("(no fetches)") and r.get("fetch_end") is not None)]
        rows.append((label, statistics.median(values) if values else None, p95(values) if values else None))
    return rows


def report(name: str, records: list[dict]) -> None:
    """Print the phase breakdown and the totals of one page."""
    times = total(records)
    first = records[0]
    print(f"\n{name}: {len(records)} moves; tile {first['natural'][0]}×{first['natural'][1]} px shown at "
          f"{first['shown'][0]}×{first['shown'][1]}; {statistics.median(r['fetched'] for r in records):.0f} media fetches, "
          f"{statistics.median(r['bytes'] for r in records) / 1024:.0f} KiB per move")
    for label, median, high in phase_table(records):
        if median is not None:
            print(f"  {label:<44}{median:>8.1f} ms  (p95 {high:.1f})")
    grid = [r["grid_ms"] for r in records if r.get("grid_ms")]
    if grid:
        print(f"  {'server: render_grid (transform + captions + JPEG)':<44}{statistics.median(grid):>8.1f} ms")
    print(f"  {'(browser main thread in tasks > 50 ms)':<44}{statistics.median(r['busy'] for r in records):>8.1f} ms  (p95 {p95([r['busy'] for r in records]):.1f})")
    print(f"  {'TOTAL slider event → painted':<44}{statistics.median(times):>8.1f} ms  (p95 {p95(times):.1f})")


def floor_env(work: Path, width: int | str, height: int | str, mode: str) -> dict[str, str]:
    """The floor's settings: tiles of this size cut from the Playground's own preview of the photo.

    Same picture, pixel size and JPEG quality as our tiles, so the floor sends as many bytes as
    our page (its old gradient tiles were a quarter of that, which flattered the floor's decode).
    """
    from augment_core.settings import get_int
    from augment_core.transforms import load_image
    from augment_core.transforms.preview import TILE_QUALITY

    image = work / "photo.npy"
    if not image.exists():
        np.save(image, load_image(phone_photo(), "phone.jpg", max_side=get_int("AUGLAB_PREVIEW_SIZE")).array)
    return {"FLOOR_TILE_WIDTH": str(width), "FLOOR_TILE_HEIGHT": str(height), "FLOOR_MODE": mode, "FLOOR_IMAGE": str(image),
            "FLOOR_TILE_QUALITY": str(TILE_QUALITY)}


def compare_floors(modes: list[str], moves: int, rounds: int) -> None:
    """Floor variants (``mode@WxH``) measured in turns: what sending the grid differently costs."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="auglab_floor_"))
    servers, pages, results = [], [], {m: [] for m in modes}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            for i, mode in enumerate(modes):
                kind, _, size = mode.partition("@")
                width, height = (size or "384x512").split("x")
                servers.append(start("benchmarks/preview_floor.py", {"AUGLAB_PREVIEW_TRACE": str(work / f"{i}.trace"),
                                                                    **floor_env(work, width, height, kind)}, work / f"{i}.log"))
                pages.append(open_floor(browser, servers[-1].url)[1])
            for _ in range(rounds):
                for i, mode in enumerate(modes):
                    results[mode] += measure_moves(pages[i], "Limit", work / f"{i}.trace", moves)
            browser.close()
    finally:
        for server in servers:
            server.process.terminate()
    for mode in modes:
        report(f"floor {mode}", results[mode])


def compare_under_load(moves: int) -> None:
    """Playground moves with no run going, then the same moves back while the demo trains in the app's worker."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="auglab_preview_load_"))
    trace, data = work / "app.trace", work / "data"
    os.environ["AUGLAB_DATA_DIR"] = str(data)  # this process enqueues into the app's run database
    from augment_core.experiment import RunQueue, create_spec_preset

    app = start("app.py", {"AUGLAB_DATA_DIR": str(data), "AUGLAB_PREVIEW_TRACE": str(trace), "AUGLAB_WORKERS": "1"},
                work / "app.log")
    figures: dict[str, tuple[list[dict], float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            context, page = open_playground(browser, app.url, phone_photo())
            idle = measure_moves(page, "Limit — start", trace, moves)
            figures["no run going"] = (idle, os.getloadavg()[0])
            queue = RunQueue()
            run_id = queue.enqueue(create_spec_preset("demo"))
            deadline = time.monotonic() + 300
            while queue.state(run_id).progress is None and time.monotonic() < deadline:  # training, not just claimed
                time.sleep(0.5)
            if queue.state(run_id).progress is None:
                raise RuntimeError(f"the demo run did not start training within 300 s; see {work / 'app.log'}")
            busy = measure_moves(page, "Limit — start", trace, moves, key="ArrowLeft")  # back over the same values
            state = queue.state(run_id)
            if state.status != "running":
                raise RuntimeError(f"the demo run was {state.status} before the moves ended: the figure would not be under load")
            figures[f"demo training in the worker (at {state.progress.fraction:.0%} when the moves ended)"] = (busy, os.getloadavg()[0])
            context.close()
            browser.close()
    finally:
        app.process.terminate()  # the app stops its worker; the temporary data folder goes with it
        app.process.wait(timeout=30)
    print(f"\nChromium, 12 MP EXIF-rotated upload → preview, Rotate, {moves} moves each, {os.cpu_count()} cores")
    for name, (records, load) in figures.items():
        times = total(records)
        print(f"  {name:<62} median {statistics.median(times):7.1f} ms, p95 {p95(times):7.1f} ms (load average {load:.1f})")
    (idle, _), (busy, _) = figures.values()
    print(f"  with / without a run: median {statistics.median(total(busy)) / statistics.median(total(idle)):.2f}×, "
          f"p95 {p95(total(busy)) / p95(total(idle)):.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20, help="slider moves per page and round")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; each measures both pages in turn")
    parser.add_argument("--floor-mode", default="columns", help="how the floor sends its tiles: columns (st.image each), list or inline")
    parser.add_argument("--floor-modes", default="", help="compare floor variants only, e.g. columns,list@192x256 (no app)")
    parser.add_argument("--with-run", action="store_true", help="latency with no run going, then with the demo training (no floor)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.with_run:
        compare_under_load(args.moves)
        return
    if args.floor_modes:
        compare_floors(args.floor_modes.split(","), args.moves, args.rounds)
        return
    photo = phone_photo()
    work = Path(tempfile.mkdtemp(prefix="auglab_preview_browser_"))
    app_trace, floor_trace = work / "app.trace", work / "floor.trace"
    app = start("app.py", {"AUGLAB_DATA_DIR": str(work / "data"), "AUGLAB_PREVIEW_TRACE": str(app_trace)}, work / "app.log")
    floor = None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            app_context, app_page = open_playground(browser, app.url, photo)
            natural = app_page.evaluate("""() => { const e = [...document.querySelectorAll('[data-testid="stImage"], [data-testid="auglabTile"]')]
                .find(x => !(x.textContent || '').startsWith('original')); const i = e.querySelector('img'); return [i.naturalWidth, i.naturalHeight]; }""")
            floor = start("benchmarks/preview_floor.py", {"AUGLAB_PREVIEW_TRACE": str(floor_trace),
                                                          **floor_env(work, natural[0], natural[1], args.floor_mode)}, work / "floor.log")
            floor_context, floor_page = open_floor(browser, floor.url)
            ours: list[dict] = []
            base: list[dict] = []
            for round_ in range(args.rounds):
                ours += measure_moves(app_page, "Limit — start", app_trace, args.moves)
                base += measure_moves(floor_page, "Limit", floor_trace, args.moves)
                print(f"round {round_ + 1}: ours {statistics.median(total(ours[-args.moves:])):.1f} ms, "
                      f"floor {statistics.median(total(base[-args.moves:])):.1f} ms (medians)", flush=True)
            app_context.close()
            floor_context.close()
            browser.close()
    finally:
        for server in (app, floor):
            if server:
                server.process.terminate()
                server.process.wait(timeout=15)
    print(f"\nChromium, 12 MP EXIF-rotated upload → preview, Rotate, {args.moves} moves × {args.rounds} round(s); "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    report("Playground (ours)", ours)
    report(f"Floor (8 precomputed tiles, no work, sent as {args.floor_mode})", base)
    ratio = statistics.median(total(ours)) / statistics.median(total(base))
    ratio95 = p95(total(ours)) / p95(total(base))
    print(f"\nours / floor: median {ratio:.2f}×, p95 {ratio95:.2f}×")


if __name__ == "__main__":
    main()
