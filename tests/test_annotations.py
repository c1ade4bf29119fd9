"""Annotated samples, YOLO/COCO/mask parsing and refusals, annotated previews, mixing previews."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from augment_core import AugLabError
from augment_core.pipelines import model as pl
from augment_core.pipelines.annotations import (
    Annotations, draw_annotations, load_annotated_sample, load_mask, parse_coco, parse_yolo, render_annotated, scale_annotations,
)
from augment_core.pipelines.mixing_preview import mix_preview

SIZE = (80, 64)  # (width, height) of the rgb_image fixture


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_yolo_boxes_in_pixels_with_names():
    ann = parse_yolo("0 0.5 0.5 0.5 0.5\n\n# comment\n1 0.25 0.25 0.1 0.1\n", SIZE, ["cat"])
    assert ann.box_labels == ("cat", "1")
    np.testing.assert_allclose(ann.boxes[0], [20, 16, 60, 48])


@pytest.mark.parametrize("text,match", [
    ("0 0.5 0.5 0.5", "line 1 has 4 values"), ("a 0.5 0.5 0.5 0.5", "line 1"), ("0 1.5 0.5 0.5 0.5", "between 0 and 1"),
    ("0 0.5 0.5 0 0.5", "no area"), ("", "no boxes"), ("0 0.5 0.5 0.2 0.2\n-1 0.5 0.5 0.2 0.2", "line 2"),
])
def test_bad_yolo_is_refused_with_the_line(text, match):
    with pytest.raises(AugLabError, match=match):
        parse_yolo(text, SIZE)


def _coco(**change) -> str:
    document = {"images": [{"id": 7, "file_name": "a.png", "width": 80, "height": 64}],
                "categories": [{"id": 1, "name": "cat"}],
                "annotations": [{"image_id": 7, "category_id": 1, "bbox": [10, 10, 20, 30], "keypoints": [15, 15, 2, 0, 0, 0],
                                 "segmentation": [[10, 10, 30, 10, 30, 40, 10, 40]]}]}
    document.update(change)
    return json.dumps(document)


def test_coco_boxes_keypoints_and_polygon_mask():
    ann = parse_coco(_coco(), SIZE, "a.png")
    np.testing.assert_allclose(ann.boxes[0], [10, 10, 30, 40])
    assert ann.box_labels == ("cat",) and ann.keypoints.tolist() == [[15, 15]]
    assert ann.mask is not None and ann.mask[20, 20] == 1 and ann.mask[50, 70] == 0


@pytest.mark.parametrize("text,match", [
    ("{not json", "not valid JSON"), ('{"images": []}', "no “annotations”"),
    (_coco(images=[{"id": 1, "file_name": "x.png"}, {"id": 2, "file_name": "y.png"}]), "none is named"),
    (_coco(images=[{"id": 7, "file_name": "a.png", "width": 100, "height": 64}]), "says the image is 100×64"),
    (_coco(annotations=[{"image_id": 7, "category_id": 1, "bbox": [10, 10, -5, 3]}]), "annotation 1"),
    (_coco(annotations=[{"image_id": 7, "category_id": 1, "bbox": [500, 10, 5, 3]}]), "outside"),
    (_coco(annotations=[]), "no boxes"),
])
def test_bad_coco_is_refused(text, match):
    with pytest.raises(AugLabError, match=match):
        parse_coco(text, SIZE, "a.png")


def test_masks_from_grey_and_colour_images():
    grey = np.zeros((64, 80), np.uint8)
    grey[5:10, 5:10] = 3
    assert set(np.unique(load_mask(_png(grey), SIZE))) == {0, 3}
    colour = np.zeros((64, 80, 3), np.uint8)
    colour[:10] = (255, 0, 0)
    colour[20:30] = (0, 0, 255)
    assert set(np.unique(load_mask(_png(colour), SIZE))) == {0, 1, 2}


@pytest.mark.parametrize("data,match", [
    (b"not an image", "can be read"), (_png(np.zeros((10, 10), np.uint8)), "10×10 but the image is 80×64"),
    (_png(np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)), "colours"),
])
def test_bad_masks_are_refused(data, match):
    with pytest.raises(AugLabError, match=match):
        load_mask(data, SIZE)


def test_annotations_follow_geometry_but_not_colour():
    sample = load_annotated_sample("Shapes")
    flip = pl.add_step(pl.Pipeline(), "HorizontalFlip", p=1.0)  # every draw flips (new flips default to p = 0.5)
    colour = pl.add_step(pl.Pipeline(), "ColorJitter")
    width = sample.image.shape[1]
    for pipe, expect_moved in ((flip, True), (colour, False)):
        grid = render_annotated(pipe, sample.image, sample.annotations, n=2, seed=0)
        assert len(grid.tiles) == 2 and grid.tiles[0].image.shape == sample.image.shape
    # the same compose the preview uses moves boxes exactly like the pixels
    out = pl.to_compose(flip, annotations=True)(image=sample.image, mask=sample.annotations.mask, bboxes=sample.annotations.boxes,
                                                box_labels=list(sample.annotations.box_labels), keypoints=sample.annotations.keypoints,
                                                keypoint_labels=list(sample.annotations.keypoint_labels))
    np.testing.assert_allclose(np.asarray(out["bboxes"])[0], [width - 120, 50, width - 40, 130], atol=1e-3)
    assert np.array_equal(out["mask"], sample.annotations.mask[:, ::-1])


def test_scaling_and_drawing(rgb_image):
    ann = Annotations(np.array([[10, 10, 40, 40]], np.float32), ("cat",), np.ones((64, 80), np.uint8), np.array([[20, 20]], np.float32), ("eye",))
    half = scale_annotations(ann, SIZE, (40, 32))
    np.testing.assert_allclose(half.boxes[0], [5, 5, 20, 20])
    assert half.mask.shape == (32, 40) and half.keypoints.tolist() == [[10, 10]]
    drawn = draw_annotations(rgb_image, ann)
    assert drawn.shape == rgb_image.shape and not np.array_equal(drawn, rgb_image)


@pytest.mark.parametrize("method", ["MixUp", "CutMix", "Mosaic"])
def test_mixing_preview_labels_sum_to_one(method, rgb_image):
    images = [rgb_image, rgb_image[::-1].copy(), rgb_image[:, ::-1].copy()]
    tiles = mix_preview(images, ["cat", "dog", "fox"], method, alpha=0.4, seed=3, size=32)
    again = mix_preview(images, ["cat", "dog", "fox"], method, alpha=0.4, seed=3, size=32)
    assert [t.caption for t in tiles] == [t.caption for t in again]
    for tile in tiles:
        weights = [float(part.split()[0]) for part in tile.caption.split(" + ")]
        assert abs(sum(weights) - 1) < 0.02 and tile.image.shape == (32, 32, 3)
    with pytest.raises(AugLabError):
        mix_preview(images[:1], ["cat"], method)
