"""Issue 15, "done means": one server survives the whole hostile corpus in one sitting, and a
second session keeps working throughout.

A server of its own (fresh data folder, one training worker), so the memory figure is this
sitting's. A *light* session sits on the Playground (Rotate on a sample); a *hostile* session
feeds, through the real pages, every corpus case a page can reach, one after the other. After
each case the hostile page shows a message (never a traceback), the light session's slider still
answers, and the server is alive. Then an experiment trains at the largest image size the budgets
let the built-in data train at, and the light session's slider moves are timed while it trains.
At the end the server's peak memory (``VmHWM``) is read and held to a budget.

The inputs come from the library corpus (``tests/hostile/cases.py``); each case here is one line
of :data:`SITTING`. Cases no page can reach stay with the library corpus only:

- ``spec_epoch_repeats_1e5``, ``spec_batch_1e9``, ``spec_per_class_1e8``,
  ``shapes_at_512_over_data_budget`` (per_class): the form's number inputs are bounded by the
  same settings and experiment links carry none of these fields (``LINK_FIELDS``);
- ``cli_folder_etc``: the CLI only;
- ``prefix_features_512``: library internals (the training run below goes through them);
- ``preview_past_time_limit``: built past the sliders; the heaviest preview the sliders *accept*
  is fed below (and by ``test_hostile_browser.py``).

Every figure is printed (``-s``): the machine has 2 cores shared with other work, so times are
indicative and no time is asserted.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from augment_core.prove import IMAGE_SIZE_RANGE, default_spec
from augment_core.settings import get_int
from tests.browser.conftest import choose, set_number, start_app, stop_app, wait_for_app
from tests.hostile.cases import (_patch_zip, _small_pngs, billion_laughs_yaml, deep_json, deep_yaml, nested_oneof, png_bytes, raw_link,
                                 step_file, zip_of)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# Budget for the streamlit process's peak resident memory over the whole sitting (VmHWM). Measured
# on the 2-core development machine: about 1.0 GiB (the largest single items are the built-in shapes
# data prepared for the form at the largest trainable size, ~0.5 GB of uint8, cached by the page,
# and torch/albumentations/streamlit themselves, ~0.4 GB). Before the issue-15 budgets one 512-px
# click took the server to 8 GB and a 432-byte YAML to 6.8 GB, and until this test found it, digits at
# 512 px were built in the server for the form (3.1 GiB, kept in its cache); 2.5 GiB leaves room for
# load and library versions to move the figure while still failing on any of those regressions.
SERVER_PEAK_BUDGET_MIB = 2560
# How long the light session's slider is timed while the run trains (a run still going then is cancelled).
TRAIN_WINDOW_S = 90
TRAIN_MOVES = 10


class Feed(NamedTuple):
    """One hostile input fed through a page."""

    page: str  # "pipeline", "playground" or "experiment"
    how: str  # "paste" (import box), "link" (query string), "upload", "zip", "size" (built-in data at an image size)
    input: Any  # the text, query, file bytes or (data set, size)
    words: tuple[str, ...]  # words the page must show (case-insensitive); "a|b" accepts either


def _link(entries: list[Any]) -> str:
    return "pipeline=" + raw_link(0, entries)


def _zip_strip() -> bytes:
    return zip_of({"a/strip.png": png_bytes(1_000_000, 1), "a/x.png": png_bytes(20, 20), **{f"b/{i}.png": png_bytes(30 + i, 20) for i in range(2)}})


def _zip_49mp() -> bytes:
    return zip_of({f"{c}/{i}.png": png_bytes(7000, 7000, "1") for c in "ab" for i in range(2)})


LINK_CHARS = get_int("AUGLAB_LINK_MAX_CHARS")

SITTING: list[tuple[str, Feed]] = [
    # Pipeline page, pasted into the import box.
    ("yaml_billion_laughs", Feed("pipeline", "paste", billion_laughs_yaml(), ("expands",))),
    ("json_nested_100000", Feed("pipeline", "paste", deep_json(100_000), ("nested",))),
    ("yaml_nested_10000", Feed("pipeline", "paste", deep_yaml(10_000), ("nested",))),
    ("oneof_nested_1000", Feed("pipeline", "paste", nested_oneof(1000), ("nested",))),
    ("json_infinity", Feed("pipeline", "paste", step_file("Rotate").replace('"p": 1.0', '"p": 1.0, "limit": [-Infinity, Infinity]'), ("finite",))),
    ("yaml_inf", Feed("pipeline", "paste", "transform: {__class_fullname__: Compose, transforms: [{__class_fullname__: Rotate, limit: [-.inf, .inf]}]}", ("finite",))),
    ("strict_false", Feed("pipeline", "paste", step_file("Rotate", strict=False, unknown_arg=1), ("strict",))),
    ("file_gaussblur_99999", Feed("pipeline", "paste", step_file("GaussianBlur", blur_limit=[3, 99999]), ("blur_limit", "99999"))),
    ("file_coarse_dropout_million_holes", Feed("pipeline", "paste", step_file("CoarseDropout", num_holes_range=[1, 1_000_000]), ("num_holes_range",))),
    ("file_defocus_radius_1e5", Feed("pipeline", "paste", step_file("Defocus", radius=[3, 100_000]), ("radius",))),
    ("file_median_blur_99999", Feed("pipeline", "paste", step_file("MedianBlur", blur_limit=[3, 99999]), ("blur_limit",))),
    ("file_grid_shuffle_1000", Feed("pipeline", "paste", step_file("RandomGridShuffle", grid=[1000, 1000]), ("grid",))),
    ("file_piecewise_affine_1000", Feed("pipeline", "paste", step_file("PiecewiseAffine", nb_rows=[1000, 1000], nb_cols=[1000, 1000]), ("nb_",))),
    ("file_shadows_million", Feed("pipeline", "paste", step_file("RandomShadow", num_shadows_limit=[1, 1_000_000]), ("num_shadows_limit",))),
    ("file_sunflare_million", Feed("pipeline", "paste", step_file("RandomSunFlare", num_flare_circles_range=[1, 1_000_000]), ("num_flare_circles_range",))),
    ("file_1000_steps", Feed("pipeline", "paste", '{"transform": {"__class_fullname__": "Compose", "transforms": [' + ", ".join(['{"__class_fullname__": "Blur"}'] * 1000) + "]}}", ("limit",))),
    # Pipeline page, share links.
    ("link_gaussblur_99999", Feed("pipeline", "link", _link([["GaussianBlur", {"blur_limit": [3, 99999]}, 1.0, 1]]), ("blur_limit",))),
    ("link_coarse_dropout_billion_holes", Feed("pipeline", "link", _link([["CoarseDropout", {"num_holes_range": [1, 10**9]}, 1.0, 1]]), ("num_holes_range",))),
    ("link_defocus_radius_1e5", Feed("pipeline", "link", _link([["Defocus", {"radius": [3, 100_000]}, 1.0, 1]]), ("radius",))),
    ("link_resize_10000", Feed("pipeline", "link", _link([["Resize", {"height": 10000, "width": 10000}, 1.0, 1]]), ("height",))),
    # Past AUGLAB_LINK_MAX_CHARS (the corpus's 100,000 characters would be refused by the HTTP server's header limit first).
    ("link_too_long", Feed("pipeline", "link", "pipeline=1." + "A" * (LINK_CHARS + 1000), ("characters",))),
    ("link_group_of_junk", Feed("pipeline", "link", _link([["OneOf", [5, "x", None], 1.0, 1]]), ("damaged",))),
    ("link_nested_groups", Feed("pipeline", "link", _link([["OneOf", [["OneOf", [["Blur", {}, 1.0, 1]], 1.0, 1]], 1.0, 1]]), ("groups inside groups",))),
    ("link_strict_false", Feed("pipeline", "link", _link([["Rotate", {"strict": False}, 1.0, 1]]), ("strict",))),
    # Playground links and uploads.
    ("playground_link_rotate_inf", Feed("playground", "link", "transform=Rotate&limit=-inf,inf", ("did not fit",))),
    ("playground_link_gaussblur_99999", Feed("playground", "link", "transform=GaussianBlur&blur_limit=3,99999", ("did not fit",))),
    ("playground_link_samples_6000", Feed("playground", "link", "samples=Nope," + ",".join(["Cat"] * 6000), ("left out", "original · Cat"))),
    # The heaviest preview the sliders accept: stopped at its time limit, or drawn smaller first.
    ("playground_link_piecewise_10", Feed("playground", "link", "transform=PiecewiseAffine&nb_rows=10,10&nb_cols=10,10&scale=0.1,0.1&samples=Astronaut",
                                          ("was stopped|shown at",))),
    ("playground_upload_strip_1x1000000", Feed("playground", "upload", [{"name": "strip.png", "mimeType": "image/png", "buffer": png_bytes(1_000_000, 1)}],
                                               ("downscaled from 1000000×1",))),
    ("playground_upload_49mp_one_bit", Feed("playground", "upload", [{"name": "bits.png", "mimeType": "image/png", "buffer": png_bytes(7000, 7000, "1")}],
                                            ("7000×7000", "pixels per byte"))),
    # Experiment page: zips, links, built-in data at the largest image size the form offers.
    ("zip_strip_1x1000000", Feed("experiment", "zip", _zip_strip(), ("images kept",))),
    ("zip_49mp_one_bit", Feed("experiment", "zip", _zip_49mp(), ("cannot be used", "class"))),
    ("zip_bad_crc", Feed("experiment", "zip", _patch_zip(zip_of(_small_pngs(), 0), corrupt=b"IDAT"), ("cats/0.png", "crc"))),
    ("zip_deflate64", Feed("experiment", "zip", _patch_zip(zip_of(_small_pngs()), method=9), ("cats/0.png", "deflate64"))),
    ("zip_encrypted", Feed("experiment", "zip", _patch_zip(zip_of(_small_pngs()), encrypted=True), ("cats/0.png", "encrypted"))),
    ("spec_epochs_seeds_size_links", Feed("experiment", "link", "epochs=10000000&seeds=1000&image_size=100000", ("epochs 10000000", "seeds 1000", "outside the allowed"))),
    ("shapes_at_512", Feed("experiment", "size", ("Shapes (generated)", IMAGE_SIZE_RANGE[1]), ("AUGLAB_MAX_DATA_BYTES",))),
    ("digits_at_512", Feed("experiment", "size", ("Handwritten digits (scikit-learn)", IMAGE_SIZE_RANGE[1]), ("AUGLAB_MAX_DATA_BYTES",))),
]


def _largest_trainable_size(dataset: str = "shapes") -> int:
    """The largest image size on the form's grid (step 16) at which the built-in data fit AUGLAB_MAX_DATA_BYTES."""
    images = default_spec(dataset).dataset_options["per_class"] * 6  # the six shape classes
    low, high = IMAGE_SIZE_RANGE
    fits = [s for s in range(low, high + 1, 16) if images * 3 * s * s * 4 <= get_int("AUGLAB_MAX_DATA_BYTES")]
    return fits[-1]


# ---- memory of the server and its worker processes --------------------------------------------

def _status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS (MiB) of ``pid``; empty when it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0]) // 1024
    return out


def _descendants(root: int) -> dict[int, str]:
    """Every live process below ``root``, with its command line."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                try:
                    found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                except OSError:
                    continue
                frontier.append(pid)
    return found


class MemoryWatch:
    """Samples the server and its descendants twice a second: each process's peak (VmHWM) and the largest total RSS."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (command, VmHWM MiB)
        self.total_rss_mib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            procs = {self.server_pid: "streamlit (server)", **_descendants(self.server_pid)}
            total = 0
            for pid, command in procs.items():
                status = _status(pid)
                if status:
                    total += status["VmRSS"]
                    self.peaks[pid] = (command, max(status["VmHWM"], self.peaks.get(pid, ("", 0))[1]))
            self.total_rss_mib = max(self.total_rss_mib, total)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def report(self) -> list[str]:
        def role(command: str) -> str:
            for part, name in (("(server)", "server"), ("augment_core.worker", "training worker"), ("transforms.executor", "preview worker")):
                if part in command:
                    return name
            return command[:60]
        return [f"  {role(c):<18} pid {pid:>7}: peak {mib:>6} MiB" for pid, (c, mib) in sorted(self.peaks.items(), key=lambda p: -p[1][1])]


# ---- driving the pages ------------------------------------------------------------------------

def _words_js() -> str:
    return """words => { const body = document.body.innerText.toLowerCase();
        return words.every(w => w.toLowerCase().split('|').some(alt => body.includes(alt))); }"""


def _feed(page, url: str, feed: Feed) -> None:
    """Open the page, feed the input the way a person would, and wait until the words are shown."""
    if feed.how == "link":
        page.goto(f"{url}/{'' if feed.page == 'playground' else feed.page}?{feed.input}")
        wait_for_app(page)
    elif feed.how == "paste":
        page.goto(f"{url}/pipeline")
        wait_for_app(page)
        page.locator("[data-testid='stButtonGroup'] button", has_text="Export, import and share").click()
        wait_for_app(page)
        box = page.locator("textarea[aria-label='…or paste it here']")
        box.fill(feed.input)
        box.press("Control+Enter")  # commit the text before the click
        wait_for_app(page)
        page.get_by_role("button", name="Import").click()
    elif feed.how == "upload":
        page.goto(url)
        wait_for_app(page)
        page.locator("[data-testid='stFileUploader']", has_text="Your images").locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(files=feed.input)
    elif feed.how == "zip":
        page.goto(f"{url}/experiment")
        wait_for_app(page)
        page.locator("[data-testid='stButtonGroup'] button", has_text="Zip of class folders").click()
        wait_for_app(page)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
            files=[{"name": "data.zip", "mimeType": "application/zip", "buffer": feed.input}])
    elif feed.how == "size":
        title, size = feed.input
        page.goto(f"{url}/experiment")
        wait_for_app(page)
        choose(page, "Built-in data set", title, typed=title.split(" (")[0])
        set_number(page, "Image size (px)", size)
    else:
        raise AssertionError(f"unknown way to feed: {feed.how}")
    try:
        page.wait_for_function(_words_js(), arg=list(feed.words), timeout=120_000, polling=200)
    except Exception:
        raise AssertionError(f"the page never showed {feed.words}: {page.inner_text('body')[-1500:]}") from None
    wait_for_app(page)


def _no_traceback(page) -> None:
    body = page.inner_text("body")
    assert "Traceback" not in body and page.locator("[data-testid='stException']").count() == 0, body[-2000:]


class LightSession:
    """The second person: Rotate on a sample on the Playground; each move takes the start thumb to an end."""

    PLUS_90 = "() => [...document.querySelectorAll('[data-testid=\"auglabTileCaption\"]')].filter(e => e.textContent.startsWith('angle +90.0')).length"

    def __init__(self, page, url: str) -> None:
        self.page = page
        page.goto(url)
        wait_for_app(page)
        page.wait_for_selector("[data-testid='auglabTileCaption']")
        self.at_end = False

    def move(self) -> float:
        """Press End or Home on the slider; seconds until the new tiles are shown."""
        slider = self.page.locator("input[aria-label='Limit — start']")
        slider.focus()
        start = time.perf_counter()
        self.page.keyboard.press("Home" if self.at_end else "End")
        want = "n < 8" if self.at_end else "n === 8"  # End: every sample rotates by exactly +90°
        self.page.wait_for_function(f"() => {{ const n = ({self.PLUS_90})(); return {want}; }}", timeout=180_000, polling=50)
        latency = time.perf_counter() - start
        self.at_end = not self.at_end
        wait_for_app(self.page)
        return latency


def _train(page, url: str, size: int, light: LightSession, server: subprocess.Popen) -> tuple[list[float], str]:
    """Start a short run at ``size`` on the built-in shapes and move the light slider while it trains.

    The moves go on until the run ends or for TRAIN_WINDOW_S (at least TRAIN_MOVES moves); a run
    still going then is cancelled from its page (at 368 px one epoch of one seed takes minutes on
    two shared cores). Returns the latencies and how the run ended.
    """
    page.goto(f"{url}/experiment")
    wait_for_app(page)
    for label, value in (("Epochs", 1), ("Seeds", 1), ("Passes per epoch", 1), ("Image size (px)", size)):
        assert set_number(page, label, value) == str(value)
    page.wait_for_selector("text=Sample images of each class", timeout=120_000)
    _no_traceback(page)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=Training: shapes", timeout=120_000)
    page.wait_for_selector("text=elapsed", timeout=120_000)  # the worker has picked it up and reports progress
    latencies: list[float] = []
    start = time.monotonic()
    while not page.locator("text=Result: shapes").count():
        if time.monotonic() - start > TRAIN_WINDOW_S and len(latencies) >= TRAIN_MOVES:
            break
        latencies.append(light.move())
        assert server.poll() is None, "the server died while the run trained"
    ended = "finished"
    if not page.locator("text=Result: shapes").count():
        progress = page.locator("[data-testid='stProgress']").first.inner_text(timeout=10_000)
        ended = f"cancelled {time.monotonic() - start:.0f} s after it started, at {progress!r}"
        page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("text=Result: shapes", timeout=300_000)
    wait_for_app(page)
    _no_traceback(page)
    return latencies, ended


def test_the_server_survives_the_whole_corpus_in_one_sitting(browser, tmp_path):
    data_dir = tmp_path / "sitting_data"
    data_dir.mkdir()
    server, url = start_app(data_dir, workers=1)
    watch = MemoryWatch(server.pid)
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1500}) for _ in range(2)]
    figures: list[str] = []
    try:
        light = LightSession(contexts[0].new_page(), url)
        hostile = contexts[1].new_page()
        hostile.set_default_timeout(180_000)
        light.page.set_default_timeout(180_000)
        for name, feed in SITTING:
            start = time.perf_counter()
            _feed(hostile, url, feed)
            took = time.perf_counter() - start
            _no_traceback(hostile)
            assert server.poll() is None, f"the server died on {name}"
            latency = light.move()
            figures.append(f"  {name:<36} {feed.page:<10} {feed.how:<6} message in {took:5.1f} s; light slider {latency:5.2f} s; "
                           f"server RSS {_status(server.pid).get('VmRSS', 0)} MiB")
            print(figures[-1], flush=True)

        size = _largest_trainable_size()
        latencies, ended = _train(hostile, url, size, light, server)
        assert server.poll() is None
        assert latencies, "the run ended before the light session could move its slider"
        light.move()  # still answers after the run

        server_peak = _status(server.pid)["VmHWM"]
        watch.stop()
        print(f"\nhostile sitting: {len(SITTING)} cases fed through the pages, then a run at {size} px (1 epoch, 1 seed, shapes): {ended}")
        print("\n".join(figures))
        print(f"light session's slider during the {size}-px run: {len(latencies)} moves, median {statistics.median(latencies):.2f} s, "
              f"max {max(latencies):.2f} s")
        print(f"server peak memory (VmHWM): {server_peak} MiB (budget {SERVER_PEAK_BUDGET_MIB} MiB); "
              f"largest total RSS of the server and its workers: {watch.total_rss_mib} MiB")
        print("\n".join(watch.report()))
        print(f"load: {Path('/proc/loadavg').read_text().strip()}")
        assert server_peak < SERVER_PEAK_BUDGET_MIB, f"the server peaked at {server_peak} MiB"
    finally:
        watch.stop()
        for context in contexts:
            context.close()
        stop_app(server)
