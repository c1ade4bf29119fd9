"""User data sets: a zip of class folders, or a mapping class -> uploaded files.

Both paths decode every file with the playground's safe loader
(:func:`augment_core.transforms.images.load_image`), make it square at the run's image size the
user's way (:data:`SQUARE_MODES`: pad, the default, keeps the whole picture; crop; stretch),
drop exact duplicates (by SHA-256 of the file's bytes, so the
same picture can never sit in both training and validation) and return an
:class:`~augment_core.experiment.datasets.ImageDataset` plus a :class:`ValidationReport`.

Refused with :class:`AugLabError`: a zip whose entries point outside its root (absolute paths,
``..``, drive letters), a zip bomb (more entries than ``AUGLAB_ZIP_MAX_FILES`` or more declared
uncompressed bytes than ``AUGLAB_ZIP_MAX_BYTES``, both checked before anything is extracted),
fewer than two classes, and any class left with fewer than two images.

A zip laid out as ``train/<class>/…`` plus ``val/<class>/…`` (or ``valid/``, ``validation/``,
``test/``) keeps its own split: the data set's ``fixed_val`` marks the validation images and every
seed uses them. :func:`validation_advice` flags a validation set too small to say anything.
"""

from __future__ import annotations

import hashlib
import io
import math
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
from PIL import Image

from augment_core.errors import AugLabError
from augment_core.experiment.datasets import ImageDataset, check_data_budget
from augment_core.transforms.images import load_image
from augment_core.settings import get_int

SMALL_CLASS = 5  # classes with fewer images than this are flagged in the report
SQUARE_MODES: dict[str, str] = {
    "pad": "Pad: scale the longer side to the size and pad the rest with the picture's mean colour (keeps the whole picture).",
    "crop": "Centre crop: scale the shorter side to the size and cut off the ends of the longer side.",
    "stretch": "Stretch: resize both sides to the size (keeps everything, distorts the proportions).",
}
DEFAULT_SQUARE = "pad"
TRAIN_FOLDERS = ("train",)
VAL_FOLDERS = ("val", "valid", "validation", "test")  # first present is the validation set
USEFUL_MARGIN = 15.0  # points: a validation set whose 95% margin at 50% is wider than this is flagged
_IGNORED_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class ValidationReport:
    """What was found in the upload, for the user to check before training."""

    per_class: dict[str, int]  # images kept per class
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (dropped file, identical to)
    small_classes: list[str] = field(default_factory=list)  # classes with fewer than SMALL_CLASS images
    val_per_class: dict[str, int] = field(default_factory=dict)  # the upload's own validation images per class (empty: no own split)
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (width, height) of each kept image as decoded
    colour: bool = True  # any kept image has visible colour (not grey in all three channels)

    @property
    def total(self) -> int:
        """Images kept."""
        return sum(self.per_class.values())

    def to_dict(self) -> dict[str, object]:
        """Plain data for display or JSON."""
        return {"per_class": dict(self.per_class), "skipped": [list(s) for s in self.skipped],
                "duplicates": [list(d) for d in self.duplicates], "small_classes": list(self.small_classes),
                "val_per_class": dict(self.val_per_class), "sizes": [list(x) for x in self.sizes], "colour": self.colour,
                "total": self.total}


def square_resize(array: np.ndarray, size: int, mode: str = "crop") -> np.ndarray:
    """Make (H, W, 3) uint8 into (size, size, 3) by ``mode`` (see :data:`SQUARE_MODES`).

    ``crop``: shorter side to ``size``, then a centre crop. ``pad``: longer side to ``size``,
    then centred on a square of the picture's mean colour (a neutral border, not a black frame
    the model could learn from). ``stretch``: both sides to ``size``.
    """
    if mode not in SQUARE_MODES:
        raise AugLabError(f"Unknown way to make images square: “{mode}”.", hint=f"Choose one of: {', '.join(SQUARE_MODES)}.",
                          field="square")
    h, w = array.shape[:2]
    if mode == "stretch":
        scale = size / max(h, w)
        return np.asarray(Image.fromarray(array).resize((size, size), _resample(scale)))
    if mode == "crop":
        # The centre square is cut from the source first and only it is resized, so the cost is
        # bounded by size² whatever the aspect ratio (a 1×1,000,000 strip would otherwise ask for
        # a size × 10⁸-pixel intermediate image).
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = np.ascontiguousarray(array[top:top + side, left:left + side])
        if side == size:
            return square
        return np.asarray(Image.fromarray(square).resize((size, size), _resample(size / side)))
    scale = size / max(h, w)  # pad: both sides end up <= size, so the cost is bounded too
    nw, nh = min(size, max(1, round(w * scale))), min(size, max(1, round(h * scale)))
    img = Image.fromarray(array).resize((nw, nh), _resample(scale))
    fill = tuple(int(v) for v in np.asarray(img).reshape(-1, 3).mean(0).round())
    canvas = Image.new("RGB", (size, size), fill)
    canvas.paste(img, ((size - nw) // 2, (size - nh) // 2))
    return np.asarray(canvas)


def _resample(scale: float) -> Image.Resampling:
    return Image.Resampling.BILINEAR if scale > 1 else Image.Resampling.LANCZOS


def validation_advice(val_images: int, classes: int) -> str | None:
    """A warning when ``val_images`` validation images are too few for any verdict, with how many it would take.

    The yardstick is the 95% binomial margin of an accuracy near 50%, ``1.96 * 50 / sqrt(n)``
    points: 6 images give ±40 points, 96 give ±10, 384 give ±5.
    """
    margin = 100.0 * 1.96 * 0.5 / math.sqrt(max(val_images, 1))
    if margin <= USEFUL_MARGIN:
        return None
    need10 = math.ceil((1.96 * 50 / 10) ** 2)
    return (f"The validation set has only {val_images} image(s): one image moves accuracy by {100 / max(val_images, 1):.0f} points "
            f"and the 95% margin of an accuracy near 50% is ±{margin:.0f} points, so no verdict is possible. "
            f"About {need10} validation images (≈{math.ceil(need10 / max(classes, 1))} per class) narrow it to ±10 points; "
            f"{math.ceil((1.96 * 50 / 5) ** 2)} to ±5.")


def _safe_parts(name: str) -> tuple[str, ...]:
    """Split a zip entry name, refusing anything that would land outside the zip's root."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise AugLabError(f"The zip contains an unsafe path “{name}”.", hint="Zip the class folders directly, with relative paths.", field="dataset")
    parts = PurePosixPath(name).parts
    if any(p == ".." for p in parts):
        raise AugLabError(f"The zip contains a path outside its folder: “{name}”.", hint="Zip the class folders directly, with relative paths.", field="dataset")
    return tuple(p for p in parts if p not in ("", "."))


# Compression methods Python's zipfile can read (stored, deflate, bzip2, lzma); others, such as
# Deflate64 (9, written by Windows for big archives), are refused by name before reading.
_READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_REZIP = "Create the zip again with your system's “compress” command (no password, standard compression)."


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The bytes of one entry (at most one byte more than declared), or a message naming the file."""
    if info.flag_bits & 0x1:
        raise AugLabError(f"“{info.filename}” in the zip is encrypted (password-protected); it cannot be read.", hint=_REZIP, field="dataset")
    if info.compress_type not in _READABLE_METHODS:
        method = "Deflate64" if info.compress_type == 9 else f"method {info.compress_type}"
        raise AugLabError(f"“{info.filename}” in the zip is compressed with {method}, which cannot be read here.", hint=_REZIP, field="dataset")
    try:
        with archive.open(info) as fh:
            return fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError) as exc:
        reason = "its checksum (CRC) does not match: the archive is damaged" if "CRC" in str(exc) else f"it is damaged ({exc})"
        raise AugLabError(f"“{info.filename}” in the zip cannot be read: {reason}.", hint=_REZIP, field="dataset") from exc


def read_zip(data: bytes) -> dict[str, list[tuple[str, bytes]]]:
    """Read a zip of class folders into ``{class: [(file name, bytes), ...]}``, safely.

    Accepted layouts: ``cats/a.jpg`` or one wrapping folder, ``pets/cats/a.jpg``. Files not inside
    a class folder are ignored (the report lists them as skipped via :func:`load_zip`).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise AugLabError("This file is not a readable zip archive.", hint="Create it again with your system's “compress” command.", field="dataset") from exc
    with archive:
        infos = archive.infolist()
        max_files, max_bytes = get_int("AUGLAB_ZIP_MAX_FILES"), get_int("AUGLAB_ZIP_MAX_BYTES")
        if len(infos) > max_files:
            raise AugLabError(f"The zip has {len(infos)} entries, more than the limit of {max_files}.", hint="Upload fewer images, or raise AUGLAB_ZIP_MAX_FILES.", field="dataset")
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise AugLabError(f"The zip would expand to {declared / 1e6:.0f} MB, more than the limit of {max_bytes / 1e6:.0f} MB.",
                              hint="Upload smaller images, or raise AUGLAB_ZIP_MAX_BYTES.", field="dataset")
        entries = [(info, _safe_parts(info.filename)) for info in infos]  # checks every path first
        files = [(i, p) for i, p in entries if not i.is_dir() and not any(x in _IGNORED_PARTS or x.startswith("._") for x in p)]
        # Strip one wrapping folder when everything sits inside it.
        tops = {p[0] for _, p in files}
        if len(tops) == 1 and all(len(p) >= 2 for _, p in files) and any(len(p) >= 3 for _, p in files):
            files = [(i, p[1:]) for i, p in files]
        classes: dict[str, list[tuple[str, bytes]]] = {}
        for info, parts in files:
            if stat.S_ISLNK(info.external_attr >> 16):
                classes.setdefault("", []).append(("/".join(parts), b""))  # reported as skipped
                continue
            label = parts[0] if len(parts) > 1 else ""
            content = _read_entry(archive, info)
            if len(content) > info.file_size:
                raise AugLabError(f"“{info.filename}” is larger than the zip declares.", hint="The archive looks damaged or crafted.", field="dataset")
            classes.setdefault(label, []).append(("/".join(parts), content))
        return classes


def split_layout(classes: dict[str, list[tuple[str, bytes]]]) -> tuple[dict[str, list[tuple[str, bytes]]], set[str], list[tuple[str, str]]] | None:
    """Regroup ``train/<class>/…`` + ``val/<class>/…`` folders by class; None when the zip is not laid out so.

    Returns:
        (files by class, names of the validation files, (file, reason) for files set aside).
    """
    tops = set(classes) - {""}
    val_name = next((v for v in VAL_FOLDERS if v in tops), None)
    if "train" not in tops or val_name is None or not tops <= {*TRAIN_FOLDERS, *VAL_FOLDERS}:
        return None
    regrouped: dict[str, list[tuple[str, bytes]]] = {}
    val_files: set[str] = set()
    aside: list[tuple[str, str]] = []
    for top in sorted(tops):
        for file_name, content in classes[top]:
            parts = file_name.split("/")
            if top not in ("train", val_name):
                aside.append((file_name, f"{top}/ is kept aside ({val_name}/ is the validation set)"))
            elif len(parts) < 3:
                aside.append((file_name, f"not inside a class folder of {top}/"))
            else:
                regrouped.setdefault(parts[1], []).append((file_name, content))
                if top == val_name:
                    val_files.add(file_name)
    return regrouped, val_files, aside


def load_zip(data: bytes, *, image_size: int, name: str = "upload",
             square: str = DEFAULT_SQUARE) -> tuple[ImageDataset, ValidationReport]:
    """Turn a zip of class folders (or of ``train/`` and ``val/`` folders of class folders) into a data set and a report."""
    classes = read_zip(data)
    layout = split_layout(classes)
    val_files: set[str] | None = None
    aside: list[tuple[str, str]] = []
    if layout is not None:
        classes, val_files, aside = layout
    loose = classes.pop("", [])
    dataset, report = load_mapping(classes, image_size=image_size, name=name, square=square, val_files=val_files)
    skipped = [(n, "not inside a class folder (or a link)") for n, _ in loose] + aside
    return dataset, ValidationReport(report.per_class, skipped + report.skipped, report.duplicates, report.small_classes,
                                     report.val_per_class, report.sizes, report.colour)


def load_mapping(files_by_class: dict[str, list[tuple[str, bytes]]], *, image_size: int, name: str = "upload",
                 square: str = DEFAULT_SQUARE, val_files: set[str] | None = None) -> tuple[ImageDataset, ValidationReport]:
    """Turn ``{class: [(file name, bytes), ...]}`` into a data set and a validation report.

    Classes are sorted by name, so label indices do not depend on upload order. ``val_files``
    (file names as given) fixes the validation set; every class then needs images on both sides.
    """
    skipped: list[tuple[str, str]] = []
    duplicates: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    images: list[np.ndarray] = []
    labels: list[int] = []
    names: list[str] = []
    is_val: list[bool] = []
    sizes: list[tuple[int, int]] = []
    class_names = sorted(c for c in files_by_class if c.strip())
    check_data_budget(sum(len(files_by_class[c]) for c in class_names), image_size, what="The uploaded data set")
    per_class: dict[str, int] = {}
    for label, cls in enumerate(class_names):
        per_class[cls] = 0
        for file_name, content in files_by_class[cls]:
            shown = file_name if "/" in file_name else f"{cls}/{file_name}"
            digest = hashlib.sha256(content).hexdigest()
            if digest in seen:
                duplicates.append((shown, seen[digest]))
                continue
            try:
                # Decoded at reduced size (JPEG draft) and downscaled to 4× the run's size: the
                # square crop keeps its quality and a 50-MP photo never sits in memory as RGB.
                loaded = load_image(content, shown, max_side=4 * image_size)
            except AugLabError as exc:
                skipped.append((shown, exc.message))
                continue
            seen[digest] = shown
            images.append(square_resize(loaded.array, image_size, square))
            sizes.append((int(loaded.array.shape[1]), int(loaded.array.shape[0])))
            is_val.append(val_files is not None and file_name in val_files)
            labels.append(label)
            names.append(shown)
            per_class[cls] += 1
    val_per_class: dict[str, int] = {}
    if val_files is not None:
        val_per_class = {c: sum(1 for lab, v in zip(labels, is_val) if v and lab == i) for i, c in enumerate(class_names)}
    colour = bool(images) and max(float(np.abs(im.astype(np.int16) - im.mean(axis=2, keepdims=True)).mean()) for im in images) > 2.0
    report = ValidationReport(per_class, skipped, duplicates, [c for c, n in per_class.items() if n < SMALL_CLASS], val_per_class,
                              sizes, colour)
    usable = [c for c, n in per_class.items() if n > 0]
    if len(usable) < 2:
        raise AugLabError(f"Found {len(usable)} class(es) with images; a classifier needs at least two.",
                          hint="Put each class's images in its own folder (cats/…, dogs/…).", field="dataset")
    too_few = [c for c, n in per_class.items() if n < 2]
    if too_few:
        raise AugLabError(f"These classes have fewer than two usable images: {', '.join(too_few)}.",
                          hint="Each class needs at least one training and one validation image.", field="dataset")
    fixed_val = None
    description = f"Uploaded by the user: {len(images)} images in {len(class_names)} classes."
    if val_files is not None:
        one_sided = [c for c in class_names if val_per_class[c] in (0, per_class[c])]
        if one_sided:
            raise AugLabError(f"These classes are missing from train/ or from the validation folder: {', '.join(one_sided)}.",
                              hint="Every class needs images in both train/ and val/ (or test/).", field="dataset")
        fixed_val = np.asarray(is_val, dtype=bool)
        description += f" Its own split is kept: {int(fixed_val.sum())} validation images in the validation folder."
    dataset = ImageDataset(name, np.stack(images), np.asarray(labels, dtype=np.int64), tuple(class_names),
                           description, tuple(names), fixed_val)
    return dataset, report
