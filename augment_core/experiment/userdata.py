"""User data sets: a zip of class folders, or a mapping class -> uploaded files.

Both paths decode every file with the playground's safe loader
(:func:`augment_core.transforms.images.load_image`), resize to the run's square image size (shorter side
to ``size``, then a centre crop), drop exact duplicates (by SHA-256 of the file's bytes, so the
same picture can never sit in both training and validation) and return an
:class:`~augment_core.experiment.datasets.ImageDataset` plus a :class:`ValidationReport`.

Refused with :class:`AugLabError`: a zip whose entries point outside its root (absolute paths,
``..``, drive letters), a zip bomb (more entries than ``AUGLAB_ZIP_MAX_FILES`` or more declared
uncompressed bytes than ``AUGLAB_ZIP_MAX_BYTES``, both checked before anything is extracted),
fewer than two classes, and any class left with fewer than two images.
"""

from __future__ import annotations

import hashlib
import io
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
_IGNORED_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class ValidationReport:
    """What was found in the upload, for the user to check before training."""

    per_class: dict[str, int]  # images kept per class
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (dropped file, identical to)
    small_classes: list[str] = field(default_factory=list)  # classes with fewer than SMALL_CLASS images

    @property
    def total(self) -> int:
        """Images kept."""
        return sum(self.per_class.values())

    def to_dict(self) -> dict[str, object]:
        """Plain data for display or JSON."""
        return {"per_class": dict(self.per_class), "skipped": [list(s) for s in self.skipped],
                "duplicates": [list(d) for d in self.duplicates], "small_classes": list(self.small_classes),
                "total": self.total}


def square_resize(array: np.ndarray, size: int) -> np.ndarray:
    """Resize (H, W, 3) uint8 so the shorter side is ``size``, then centre-crop to (size, size, 3).

    The centre square is cut from the source first and only it is resized, so the cost is
    bounded by ``size``² whatever the aspect ratio (a 1×1,000,000 strip used to ask for a
    ``size`` × 10⁸-pixel intermediate image, about 12 GB).
    """
    h, w = array.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = np.ascontiguousarray(array[top:top + side, left:left + side])
    if side == size:
        return square
    resample = Image.Resampling.BILINEAR if size > side else Image.Resampling.LANCZOS
    return np.asarray(Image.fromarray(square).resize((size, size), resample))


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


def load_zip(data: bytes, *, image_size: int, name: str = "upload") -> tuple[ImageDataset, ValidationReport]:
    """Turn a zip of class folders into a data set and a validation report."""
    classes = read_zip(data)
    loose = classes.pop("", [])
    dataset, report = load_mapping(classes, image_size=image_size, name=name)
    skipped = [(n, "not inside a class folder (or a link)") for n, _ in loose]
    return dataset, ValidationReport(report.per_class, skipped + report.skipped, report.duplicates, report.small_classes)


def load_mapping(files_by_class: dict[str, list[tuple[str, bytes]]], *, image_size: int,
                 name: str = "upload") -> tuple[ImageDataset, ValidationReport]:
    """Turn ``{class: [(file name, bytes), ...]}`` into a data set and a validation report.

    Classes are sorted by name, so label indices do not depend on upload order.
    """
    skipped: list[tuple[str, str]] = []
    duplicates: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    images: list[np.ndarray] = []
    labels: list[int] = []
    names: list[str] = []
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
            images.append(square_resize(loaded.array, image_size))
            labels.append(label)
            names.append(shown)
            per_class[cls] += 1
    report = ValidationReport(per_class, skipped, duplicates, [c for c, n in per_class.items() if n < SMALL_CLASS])
    usable = [c for c, n in per_class.items() if n > 0]
    if len(usable) < 2:
        raise AugLabError(f"Found {len(usable)} class(es) with images; a classifier needs at least two.",
                          hint="Put each class's images in its own folder (cats/…, dogs/…).", field="dataset")
    too_few = [c for c, n in per_class.items() if n < 2]
    if too_few:
        raise AugLabError(f"These classes have fewer than two usable images: {', '.join(too_few)}.",
                          hint="Each class needs at least one training and one validation image.", field="dataset")
    dataset = ImageDataset(name, np.stack(images), np.asarray(labels, dtype=np.int64), tuple(class_names),
                           f"Uploaded by the user: {len(images)} images in {len(class_names)} classes.", tuple(names))
    return dataset, report
