"""The playground page, driven through Streamlit's AppTest (no browser)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _captions(at: AppTest) -> list[str]:
    """Captions of the originals (``st.image``) and then of the tiles (one inline-HTML grid)."""
    originals = [i.caption for element in at.get("image") for i in element.proto.imgs if i.caption]
    tiles = [html.unescape(c) for element in at.get("html")
             for c in re.findall(r'data-testid="auglabTileCaption">(.*?)</figcaption>', element.proto.body)]
    return originals + tiles


@pytest.fixture
def at() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def _slider(at: AppTest, label: str):
    return next(s for s in at.slider if s.label == label)


def test_opens_with_a_sample_and_eight_tiles(at):
    assert not at.exception and not at.error
    captions = _captions(at)
    assert captions[0].startswith("original")
    assert sum("angle" in c for c in captions) == 8
    assert any("A.Rotate" in c.value for c in at.code)


def test_moving_a_slider_changes_the_drawn_parameters(at):
    _slider(at, "Limit").set_value((10, 10)).run()
    assert all("angle +10.0°" in c for c in _captions(at)[1:])
    assert any("limit=(10, 10)" in c.value for c in at.code)


def test_resample_changes_seed_and_tiles(at):
    before = _captions(at)
    seed = at.number_input[0].value
    at.button[0].click().run()
    assert at.number_input[0].value == seed + 1 and _captions(at) != before


def test_sample_count_follows_the_slider(at):
    _slider(at, "Samples").set_value(3).run()
    assert len(_captions(at)) == 4


def test_family_and_search_filter_the_transform_list(at):
    at.selectbox[0].select("Weather and effects").run()
    options = at.selectbox[1].options
    assert "RandomRain" in options and "Rotate" not in options
    at.text_input[0].input("rain").run()
    assert "RandomRain" in at.selectbox[1].options and "RandomFog" not in at.selectbox[1].options
    assert not at.exception and any("drop length" in c for c in _captions(at))


def test_impossible_combination_is_explained_and_the_page_keeps_working():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["transform"] = "HEStain"
    at.run()
    preset = next(s for s in at.selectbox if s.label == "Preset")
    preset.select_index(2).run()
    assert at.error and "preset" in at.error[0].value.lower()
    assert not at.exception
    preset.select_index(0).run()
    assert not at.error and len(_captions(at)) == 9


def test_no_image_shows_a_helpful_empty_state(at):
    at.multiselect[0].set_value([]).run()
    assert any("Upload an image or pick a sample" in i.value for i in at.info)
    assert not at.exception


def test_link_presets_transform_values_and_images():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"transform": "Rotate", "limit": "-17,17", "samples": "Cat,Astronaut"})
    at.run()
    assert _slider(at, "Limit").value == (-17, 17)
    assert at.multiselect[0].value == ["Cat", "Astronaut"]
    assert not at.exception


def test_crop_sliders_follow_the_chosen_image():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"transform": "RandomCrop", "samples": "Cat"})
    at.run()
    assert _slider(at, "Height").max == 300 and _slider(at, "Width").max == 451
    assert not at.exception and not at.error


def test_a_slow_grid_is_drawn_smaller_first_with_a_button_for_the_full_grid(monkeypatch):
    """Issue 10: a grid estimated over the budget comes smaller first, says so, and the button draws it all."""
    monkeypatch.setenv("AUGLAB_PREVIEW_FIRST_MS", "0")  # every grid is "slow": the path PiecewiseAffine takes
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not at.error
    notes = [i.value for i in at.info if "shown at" in i.value]
    assert notes and "8 samples" in notes[0] and "96 px" in notes[0]
    assert len(_captions(at)) == 2  # the original and one small tile fit the budget
    next(b for b in at.button if b.label == "Full grid").click().run()
    assert not at.exception and len(_captions(at)) == 9 and not [i for i in at.info if "shown at" in i.value]
    _slider(at, "Limit").set_value((10, 10)).run()  # new settings: quick first again
    assert [i for i in at.info if "shown at" in i.value] and len(_captions(at)) == 2


def test_first_preview_draws_a_quick_grid_in_the_planning_call_and_leaves_a_slow_one(rgb_image):
    """One worker call per slider move: a quick grid comes back with its plan, equal to render_grid's."""
    from augment_core.transforms import catalog, first_preview, render_grid

    flip = catalog.create_transform("HorizontalFlip")
    quick = first_preview(flip, [rgb_image], 8, 5, budget_ms=2000)
    assert quick.side is None and quick.n == 8 and quick.grid is not None
    direct = render_grid(flip, [rgb_image], n=8, seed=5)
    assert [t.encoded for t in quick.grid.tiles] == [t.encoded for t in direct.tiles]
    assert [t.caption for t in quick.grid.tiles] == [t.caption for t in direct.tiles]
    big = np.repeat(np.repeat(rgb_image, 8, axis=0), 8, axis=1)  # 512×640
    warp = catalog.create_transform("PiecewiseAffine")
    slow = first_preview(warp, [big], 8, 0, budget_ms=50, draw_within_ms=0)
    assert slow.grid is None and slow.plan.reduced and slow.side == slow.plan.side and slow.n == slow.plan.n
    full = first_preview(warp, [big], 8, 0, budget_ms=50, full=True, draw_within_ms=0)
    assert full.grid is None and full.side is None and full.n == 8 and full.expected_ms == full.plan.full_ms
    # a reduced first grid that is quick is drawn at its reduced size, not the full one
    shrunk = first_preview(warp, [big], 8, 0, budget_ms=50, draw_within_ms=10**9)
    assert shrunk.grid is not None and len(shrunk.grid.tiles) == shrunk.n
    tile = cv2.imdecode(np.frombuffer(shrunk.grid.tiles[0].encoded, np.uint8), cv2.IMREAD_COLOR)
    assert shrunk.side < 320 and max(tile.shape[:2]) == shrunk.side


def test_plan_keeps_fast_grids_whole_and_shrinks_slow_ones(rgb_image):
    from augment_core.transforms import catalog, plan_preview, render_grid, shrink

    fast = plan_preview(catalog.create_transform("HorizontalFlip"), [rgb_image], n=8, seed=0, budget_ms=2000)
    assert not fast.reduced and fast.n == 8
    big = np.repeat(np.repeat(rgb_image, 8, axis=0), 8, axis=1)  # 512×640
    slow = plan_preview(catalog.create_transform("PiecewiseAffine"), [big], n=8, seed=0, budget_ms=50)
    assert slow.reduced and slow.side in (384, 256, 192, 128, 96) and 1 <= slow.n <= 8 and slow.first_ms <= max(50, slow.full_ms / 8)
    grid = render_grid(catalog.create_transform("PiecewiseAffine"), shrink([big], slow.side), n=slow.n, seed=0)
    assert max(grid.tiles[0].image.shape[:2]) == slow.side
