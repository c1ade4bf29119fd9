"""Boxes, masks and keypoints: built-in annotated samples, YOLO/COCO/mask parsing, drawing, preview.

Annotations are kept in albumentations' terms: boxes as ``pascal_voc`` pixels ``(x_min, y_min,
x_max, y_max)``, keypoints as ``xy`` pixels, the mask as an ``(H, W)`` uint8 array of class ids.
:func:`render_annotated` runs a pipeline over an image and its annotations with the same seeded
``Compose`` the plain preview uses, and draws the transformed annotations on each tile, so a
user sees boxes and masks follow a rotation and stay put under a colour change.

Every parser refuses a bad file with an :class:`AugLabError` that says which line or entry is
wrong and why.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from augment_core.errors import AugLabError
from augment_core.pipelines.model import Pipeline, to_compose
from augment_core.transforms.preview import PreviewGrid, Tile, caption_for, encode_jpeg
from augment_core.settings import get_int

PALETTE = ((230, 60, 40), (40, 110, 230), (250, 190, 20), (40, 180, 90), (170, 60, 200), (20, 190, 200), (240, 120, 30), (120, 120, 120))
MAX_ANNOTATION_BYTES = 5_000_000  # annotation files are small; anything larger is refused


@dataclass(frozen=True)
class Annotations:
    """What is labelled on one image, in pixel coordinates of that image."""

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32), repr=False)  # (N, 4) pascal_voc
    box_labels: tuple[str, ...] = ()  # one class name per box
    mask: np.ndarray | None = field(default=None, repr=False)  # (H, W) uint8 class ids, 0 = background
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32), repr=False)  # (K, 2) xy
    keypoint_labels: tuple[str, ...] = ()  # one name per keypoint


@dataclass(frozen=True)
class AnnotatedSample:
    """A built-in image with its annotations."""

    name: str  # shown in the picker
    description: str  # where it comes from
    image: np.ndarray = field(repr=False)  # (H, W, 3) uint8
    annotations: Annotations = field(default_factory=Annotations)


def shapes_scene(width: int = 320, height: int = 256) -> AnnotatedSample:
    """A generated scene: a square, a disc and a triangle, boxed, masked, with corner keypoints."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([150 + x * 60 // width, 170 + y * 50 // height, np.full_like(x, 205)], axis=-1).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    square = (40, 50, 120, 130)
    cv2.rectangle(image, square[:2], square[2:], (230, 60, 40), -1)
    cv2.rectangle(mask, square[:2], square[2:], 1, -1)
    centre, radius = (215, 85), 45
    cv2.circle(image, centre, radius, (40, 110, 230), -1)
    cv2.circle(mask, centre, radius, 2, -1)
    triangle = np.array([[150, 230], [210, 140], [270, 230]], np.int32)
    cv2.fillPoly(image, [triangle], (250, 190, 20))
    cv2.fillPoly(mask, [triangle], 3)
    cv2.putText(image, "UP", (62, 100), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
    boxes = np.array([square, (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius), (150, 140, 270, 230)], np.float32)
    keypoints = np.array([*triangle.tolist(), list(centre)], np.float32)
    annotations = Annotations(boxes, ("square", "disc", "triangle"), mask, keypoints, ("left", "top", "right", "centre"))
    return AnnotatedSample("Shapes", "Generated here: three shapes with boxes, a class mask and keypoints.", image, annotations)


def list_annotated_samples() -> list[str]:
    """Names of the built-in annotated samples."""
    return ["Shapes"]


def load_annotated_sample(name: str) -> AnnotatedSample:
    """The built-in annotated sample ``name``."""
    if name != "Shapes":
        raise AugLabError(f"There is no annotated sample called “{name}”.", field=name)
    return shapes_scene()


def _text(data: bytes | str, what: str) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_ANNOTATION_BYTES:
            raise AugLabError(f"The {what} file is larger than {MAX_ANNOTATION_BYTES // 1_000_000} MB.", field=what)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise AugLabError(f"The {what} file is not UTF-8 text.", field=what) from None
    return data


def _check_box(box: tuple[float, float, float, float], size: tuple[int, int], where: str) -> tuple[float, float, float, float]:
    """Clip a box to the image (1 px of rounding allowed); refuse boxes outside or empty."""
    width, height = size
    x0, y0, x1, y1 = box
    if x0 < -1 or y0 < -1 or x1 > width + 1 or y1 > height + 1:
        raise AugLabError(f"{where}: the box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) lies outside the {width}×{height} image.",
                          hint="Check that the file belongs to this image.", field=where)
    x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height))
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise AugLabError(f"{where}: the box has no area.", field=where)
    return x0, y0, x1, y1


def parse_yolo(data: bytes | str, size: tuple[int, int], class_names: list[str] | None = None) -> Annotations:
    """Boxes from a YOLO ``.txt``: one ``class cx cy w h`` line per box, coordinates in 0..1.

    Args:
        data: File contents.
        size: (width, height) of the image the file belongs to.
        class_names: Names for the class numbers; numbers are used when missing.
    """
    boxes, labels = [], []
    for number, line in enumerate(_text(data, "YOLO").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        where = f"YOLO line {number}"
        if len(parts) != 5:
            raise AugLabError(f"{where} has {len(parts)} values; expected 5: class x_center y_center width height.", field=where)
        try:
            cls = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:])
        except ValueError:
            raise AugLabError(f"{where}: “{line}” is not a class number and four numbers.", field=where) from None
        if cls < 0 or not all(0.0 <= v <= 1.0 for v in (cx, cy, w, h)) or not all(np.isfinite((cx, cy, w, h))):
            raise AugLabError(f"{where}: the class must be 0 or more and the coordinates between 0 and 1 (they are relative to the image).", field=where)
        width, height = size
        boxes.append(_check_box(((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height), size, where))
        labels.append(class_names[cls] if class_names and cls < len(class_names) else str(cls))
    if not boxes:
        raise AugLabError("The YOLO file has no boxes.", hint="Each line is: class x_center y_center width height.", field="YOLO")
    return Annotations(np.array(boxes, np.float32), tuple(labels))


def parse_coco(data: bytes | str, size: tuple[int, int], file_name: str | None = None) -> Annotations:
    """Boxes, keypoints and polygon masks of one image from a COCO ``.json``.

    The image is the one whose ``file_name`` matches ``file_name`` or, if the file describes only
    one image, that one. Polygon ``segmentation`` is drawn into the mask (RLE is not read).
    """
    try:
        document = json.loads(_text(data, "COCO"))
    except json.JSONDecodeError as exc:
        raise AugLabError(f"The COCO file is not valid JSON (line {exc.lineno}: {exc.msg}).", field="COCO") from exc
    if not isinstance(document, dict) or not isinstance(document.get("annotations"), list):
        raise AugLabError("The COCO file has no “annotations” list.", hint="Upload a COCO instances file.", field="COCO")
    images = [i for i in document.get("images", []) if isinstance(i, dict)]
    chosen = [i for i in images if file_name and str(i.get("file_name", "")).rsplit("/", 1)[-1] == file_name] or (images if len(images) == 1 else [])
    if images and not chosen:
        raise AugLabError(f"The COCO file describes {len(images)} images and none is named “{file_name}”.", hint="Upload the image the file describes.", field="COCO")
    image_id = chosen[0].get("id") if chosen else None
    if chosen and (chosen[0].get("width"), chosen[0].get("height")) not in ((None, None), size):
        raise AugLabError(f"The COCO file says the image is {chosen[0].get('width')}×{chosen[0].get('height')}, but it is {size[0]}×{size[1]}.", field="COCO")
    names = {c.get("id"): str(c.get("name", c.get("id"))) for c in document.get("categories", []) if isinstance(c, dict)}
    width, height = size
    boxes, labels, points, point_labels = [], [], [], []
    mask = np.zeros((height, width), np.uint8)
    has_mask = False
    for index, item in enumerate(document["annotations"]):
        where = f"COCO annotation {index + 1}"
        if not isinstance(item, dict) or (image_id is not None and item.get("image_id") != image_id):
            continue
        bbox = item.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) for v in bbox)) or bbox[2] <= 0 or bbox[3] <= 0:
            raise AugLabError(f"{where}: “bbox” must be [x, y, width, height] with a positive width and height.", field=where)
        x, y, w, h = (float(v) for v in bbox)
        boxes.append(_check_box((x, y, x + w, y + h), size, where))
        label = names.get(item.get("category_id"), str(item.get("category_id", "?")))
        labels.append(label)
        flat = item.get("keypoints") or []
        for k in range(0, len(flat) - 2, 3):
            if flat[k + 2] > 0:
                points.append((float(flat[k]), float(flat[k + 1])))
                point_labels.append(f"{label} {k // 3 + 1}")
        for polygon in item.get("segmentation") or [] if isinstance(item.get("segmentation"), list) else []:
            if isinstance(polygon, list) and len(polygon) >= 6:
                cv2.fillPoly(mask, [np.array(polygon, np.float32).reshape(-1, 2).round().astype(np.int32)], min(len(boxes), 255))
                has_mask = True
    if not boxes:
        raise AugLabError("The COCO file has no boxes for this image.", field="COCO")
    return Annotations(np.array(boxes, np.float32), tuple(labels), mask if has_mask else None,
                       np.array(points, np.float32).reshape(-1, 2), tuple(point_labels))


def load_mask(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """A mask image as (H, W) uint8 class ids: grey levels are ids, colours are numbered in order.

    Raises:
        AugLabError: when the file is not an image, is too large, has another size than the
            image, or has more than 255 colours (then it is a photo, not a mask).
    """
    if len(data) > MAX_ANNOTATION_BYTES * 4:
        raise AugLabError("The mask file is too large.", field="mask")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > get_int("AUGLAB_MAX_PIXELS"):
                raise AugLabError("The mask image has too many pixels.", field="mask")
            if (img.width, img.height) != size:
                raise AugLabError(f"The mask is {img.width}×{img.height} but the image is {size[0]}×{size[1]}.",
                                  hint="Upload the mask made for this image.", field="mask")
            if img.mode == "P":
                array = np.asarray(img)  # palette indices are the class ids
            elif img.mode in ("1", "L"):
                array = np.asarray(img.convert("L"))
            elif img.mode.startswith(("I", "F")):
                array = np.asarray(img).astype(np.int64)
                if array.min() < 0 or array.max() > 255:
                    raise AugLabError("The mask has values outside 0..255; a mask holds one class id per pixel.", field="mask")
            else:
                array = np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise AugLabError("The mask file is not an image that can be read.", hint="Upload a PNG mask.", field="mask") from exc
    if array.ndim == 2:
        return array.astype(np.uint8)
    colours, ids = np.unique(array.reshape(-1, 3), axis=0, return_inverse=True)
    if len(colours) > 255:
        raise AugLabError(f"The mask has {len(colours)} colours; a mask has one per class.", hint="Save it as PNG, not JPEG.", field="mask")
    background = np.flatnonzero((colours == 0).all(axis=1))
    ids = ids.reshape(array.shape[:2]).astype(np.int32)
    if background.size:  # black stays background (0); other colours follow
        ids = np.where(ids == background[0], 0, ids + (ids < background[0]))
    else:
        ids = ids + 1
    return ids.astype(np.uint8)


def scale_annotations(annotations: Annotations, from_size: tuple[int, int], to_size: tuple[int, int]) -> Annotations:
    """Annotations of a (width, height) image, for the same image resized to ``to_size``."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    mask = annotations.mask
    if mask is not None and mask.shape[::-1] != to_size:
        mask = cv2.resize(mask, to_size, interpolation=cv2.INTER_NEAREST)
    return replace(annotations, boxes=annotations.boxes * np.array([sx, sy, sx, sy], np.float32),
                   keypoints=annotations.keypoints * np.array([sx, sy], np.float32), mask=mask)


def draw_annotations(image: np.ndarray, annotations: Annotations) -> np.ndarray:
    """A copy of ``image`` with the mask tinted, boxes outlined and labelled, keypoints dotted."""
    out = image.copy()
    names = sorted(set(annotations.box_labels))
    if annotations.mask is not None and annotations.mask.any():
        colours = np.array([(0, 0, 0), *PALETTE * 32], np.uint8)[: 256]
        tint = colours[annotations.mask]
        where = annotations.mask > 0
        out[where] = (0.55 * out[where] + 0.45 * tint[where]).astype(np.uint8)
        for value in np.unique(annotations.mask[where]):  # outlines keep the mask visible on busy images
            contours, _ = cv2.findContours((annotations.mask == value).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, (255, 255, 255), 1, cv2.LINE_AA)
    thickness = max(1, round(max(image.shape[:2]) / 200))
    for box, label in zip(annotations.boxes, annotations.box_labels):
        colour = PALETTE[names.index(label) % len(PALETTE)]
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 255, 255), thickness + 2)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, thickness)
        cv2.putText(out, label, (x0 + 3, max(y0 - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    for x, y in annotations.keypoints:
        cv2.circle(out, (int(round(x)), int(round(y))), thickness + 3, (255, 255, 255), -1)
        cv2.circle(out, (int(round(x)), int(round(y))), thickness + 1, (220, 20, 120), -1)
    return out


def render_annotated(pipeline: Pipeline, image: np.ndarray, annotations: Annotations, n: int = 8, seed: int = 0) -> PreviewGrid:
    """Apply the pipeline ``n`` times to the image and its annotations; draw them on each tile.

    Tile ``i`` is the ``i``-th draw of a ``Compose`` seeded with ``seed``, as in
    :func:`augment_core.transforms.preview.render_grid`.

    Raises:
        AugLabError: naming the steps when albumentations fails on these annotations.
    """
    start = time.perf_counter()
    compose = to_compose(pipeline, annotations=True, seed=seed, record_params=True)
    steps = compose.transforms
    mask = annotations.mask if annotations.mask is not None else np.zeros(image.shape[:2], np.uint8)
    tiles: list[Tile] = []
    transform_s = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            out = compose(image=image, mask=mask, bboxes=annotations.boxes, box_labels=list(annotations.box_labels),
                          keypoints=annotations.keypoints, keypoint_labels=list(annotations.keypoint_labels))
        except Exception as exc:  # albumentations raises many types; all become one message
            names = ", ".join(type(s).__name__ for s in steps)
            raise AugLabError(f"{names} failed on these annotations: {exc}", hint="Try other values or another image.") from exc
        transform_s += time.perf_counter() - t0
        moved = Annotations(np.asarray(out["bboxes"], np.float32).reshape(-1, 4), tuple(out["box_labels"]),
                            out["mask"] if annotations.mask is not None else None,
                            np.asarray(out["keypoints"], np.float32).reshape(-1, 2)[:, :2], tuple(out["keypoint_labels"]))
        drawn = draw_annotations(out["image"], moved)
        caption = caption_for(out.get("applied_transforms", []), expected=len(steps))
        tiles.append(Tile(drawn, encode_jpeg(drawn), caption, 0))
    return PreviewGrid(tiles, seed, transform_s * 1000, (time.perf_counter() - start) * 1000)
