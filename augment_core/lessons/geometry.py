"""Lesson 2: geometric transforms are matrices acting on pixel coordinates.

The matrices are built exactly as albumentations builds them for ``Affine`` and ``Rotate``
(scale, then rotate, then shear, then translate, all about the image centre), and the picture
is warped with ``cv2.warpAffine`` just as albumentations does, so what the lesson shows is what
the playground does.

Example:
    >>> m = affine_about_centre(17, image_shape=(64, 64))
    >>> warped = warp(image, m)
"""

from __future__ import annotations

import cv2
import numpy as np
import plotly.graph_objects as go

from augment_core.lessons.base import PLAYGROUND, Block, Control, Lesson, LessonView, Link, fmt_range, square_crop
from augment_core.lessons.figures import ACCENT, AFTER, BEFORE, FROZEN, curve_figure, finish

# Labelled points of the coordinate figure, relative to the centre, in pixel units (y down).
POINTS: dict[str, tuple[float, float]] = {"A": (1.0, 0.0), "B": (0.0, -1.0), "C": (1.0, -1.0), "D": (-0.5, 0.5)}


def rotation_matrix(theta: float) -> np.ndarray:
    """The textbook 2x2 rotation by ``theta`` degrees anticlockwise, for axes with y pointing up."""
    t = np.deg2rad(theta)
    c, s = _clean(np.cos(t)), _clean(np.sin(t))
    return np.array([[c, -s], [s, c]])


def _clean(v: float) -> float:
    """cos(90°) is 6e-17 in floating point; snap such dust to exact 0 and ±1 so rot90 stays exact."""
    r = round(float(v))
    return float(r) if abs(v - r) < 1e-12 else float(v)


def pixel_rotation(theta: float) -> np.ndarray:
    """The same anticlockwise turn on pixel axes (y down): ``F R F`` with ``F = diag(1, -1)``."""
    flip = np.diag([1.0, -1.0])
    return flip @ rotation_matrix(theta) @ flip


def translation(tx: float, ty: float) -> np.ndarray:
    """3x3 homogeneous translation by (tx, ty) pixels."""
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def linear_part(theta: float = 0.0, scale: float = 1.0, shear: float = 0.0) -> np.ndarray:
    """3x3 ``Shear · Rotate · Scale`` on pixel axes, as albumentations composes them.

    ``shear`` (degrees) is applied along both axes, as ``A.Affine(shear=(k, k))`` does.
    """
    k = np.tan(np.deg2rad(shear))
    m_scale = np.diag([scale, scale, 1.0])
    m_rotate = np.eye(3)
    m_rotate[:2, :2] = pixel_rotation(theta)
    m_shear = np.array([[1.0, k, 0.0], [k, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return m_shear @ m_rotate @ m_scale


def centre(image_shape: tuple[int, ...]) -> tuple[float, float]:
    """Centre (x, y) of an image in pixel coordinates (pixel centres are integers)."""
    h, w = image_shape[:2]
    return w / 2 - 0.5, h / 2 - 0.5


def affine_about_centre(theta: float = 0.0, scale: float = 1.0, shear: float = 0.0, shift: float = 0.0, *,
                        image_shape: tuple[int, ...]) -> np.ndarray:
    """3x3 matrix of ``A.Affine(rotate=θ, scale=s, shear=k, translate_percent=shift)`` on this image.

    It is ``T(c) · T(shift) · Shear · Rotate · Scale · T(−c)``: move the centre to the origin,
    transform, move back (and shift by ``shift`` of the width and height).
    """
    cx, cy = centre(image_shape)
    h, w = image_shape[:2]
    return translation(cx, cy) @ translation(shift * w, shift * h) @ linear_part(theta, scale, shear) @ translation(-cx, -cy)


def map_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3x3 (or 2x2) matrix to (N, 2) points."""
    points = np.asarray(points, dtype=float)
    if matrix.shape == (2, 2):
        return points @ matrix.T
    homogeneous = np.c_[points, np.ones(len(points))]
    return (homogeneous @ matrix.T)[:, :2]


def warp(image: np.ndarray, matrix: np.ndarray, *, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Warp ``image`` by a 3x3 pixel matrix into the same canvas, filling uncovered pixels with 0."""
    h, w = image.shape[:2]
    return cv2.warpAffine(image, matrix[:2].astype(np.float64), (w, h), flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def rotation_loss(image: np.ndarray, theta: float) -> dict[str, float]:
    """What rotating a square ``image`` by ``theta`` (bilinear, same canvas) costs.

    Returns:
        ``kept``: share of pixels exactly equal after rotating by +θ then −θ;
        ``filled``: share of the output that came from outside the picture (corners);
        ``round_trip_error``: mean absolute difference (0–255) after the round trip;
        ``same_pixels``: 1.0 when the rotated image holds exactly the original pixel values
        (the same multiset, as ``rot90`` guarantees), else 0.0.
    """
    forward = warp(image, affine_about_centre(theta, image_shape=image.shape))
    back = warp(forward, affine_about_centre(-theta, image_shape=image.shape))
    ones = np.full(image.shape[:2], 255, np.uint8)
    coverage = warp(ones, affine_about_centre(theta, image_shape=image.shape))
    same = np.array_equal(np.sort(forward.reshape(-1)), np.sort(image.reshape(-1)))
    exact = np.all(back == image, axis=-1) if image.ndim == 3 else back == image
    return {
        "kept": float(exact.mean()),
        "filled": float((coverage < 255).mean()),
        "round_trip_error": float(np.abs(back.astype(np.int16) - image.astype(np.int16)).mean()),
        "same_pixels": float(same),
    }


def _grid(extent: float = 1.5, n: int = 7) -> list[np.ndarray]:
    ticks = np.linspace(-extent, extent, n)
    line = np.linspace(-extent, extent, 25)
    return [np.c_[np.full_like(line, t), line] for t in ticks] + [np.c_[line, np.full_like(line, t)] for t in ticks]


def grid_figure(linear: np.ndarray, title: str) -> go.Figure:
    """A unit grid and labelled points before (grey) and after (colour) a 3x3 linear map, y down."""
    fig = go.Figure()
    for i, line in enumerate(_grid()):
        moved = map_points(linear, line)
        fig.add_trace(go.Scatter(x=line[:, 0], y=line[:, 1], mode="lines", line={"color": BEFORE, "width": 1}, opacity=0.35,
                                 showlegend=i == 0, name="before", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=moved[:, 0], y=moved[:, 1], mode="lines", line={"color": ACCENT, "width": 1.5},
                                 showlegend=i == 0, name="after", hoverinfo="skip"))
    names = list(POINTS)
    before = np.array([POINTS[n] for n in names])
    after = map_points(linear, before)
    fig.add_trace(go.Scatter(x=before[:, 0], y=before[:, 1], mode="markers+text", text=names, textposition="top left",
                             marker={"color": FROZEN, "size": 9}, name="points", showlegend=False))
    fig.add_trace(go.Scatter(x=after[:, 0], y=after[:, 1], mode="markers+text", text=[f"{n}′" for n in names],
                             textposition="bottom right", marker={"color": AFTER, "size": 11}, name="mapped points",
                             hovertext=[f"{n} ({b[0]:.2f}, {b[1]:.2f}) → ({a[0]:.2f}, {a[1]:.2f})" for n, b, a in zip(names, before, after)],
                             hoverinfo="text"))
    for b, a in zip(before, after):
        fig.add_annotation(x=a[0], y=a[1], ax=b[0], ay=b[1], xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowcolor=AFTER, opacity=0.7)
    reach = max(2.0, float(np.abs(map_points(linear, np.array([[1.5, 1.5], [1.5, -1.5], [-1.5, 1.5], [-1.5, -1.5]]))).max()) + 0.3)
    fig.update_xaxes(range=[-reach, reach], zeroline=True)
    fig.update_yaxes(range=[reach, -reach], scaleanchor="x", zeroline=True)  # y down, as on the image
    return finish(fig, title, height=420, x_title="x (right)", y_title="y (down)")


def matrix_latex(m: np.ndarray, digits: int = 3) -> str:
    """A numeric matrix as a LaTeX ``bmatrix``."""
    rows = [" & ".join(f"{v:.{digits}f}".replace("-0.000", "0.000") for v in row) for row in np.asarray(m)]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def build(images: list[np.ndarray], *, theta: float, scale: float, shear: float, shift: float,
          samples: tuple[str, ...] = ()) -> LessonView:
    """The geometry lesson for one picture and one set of slider values."""
    image = square_crop(images[0])
    c, s = np.cos(np.deg2rad(theta)), np.sin(np.deg2rad(theta))
    m = affine_about_centre(theta, scale, shear, shift, image_shape=image.shape)
    lin = linear_part(theta, scale, shear)
    cx, cy = centre(image.shape)
    warped = warp(image, m)
    loss = rotation_loss(image, theta)
    rot90 = rotation_loss(image, 90.0)
    angles = np.arange(0, 361, 5, dtype=float)
    kept_curve = np.array([rotation_loss(image[::4, ::4], a)["kept"] for a in angles]) * 100
    back = warp(warp(image, affine_about_centre(theta, image_shape=image.shape)), affine_about_centre(-theta, image_shape=image.shape))
    diff = np.clip(np.abs(back.astype(np.int16) - image.astype(np.int16)) * 4, 0, 255).astype(np.uint8)
    rows = [
        [Block("latex", rf"R({theta:g}^\circ) = \begin{{bmatrix}}\cos\theta & -\sin\theta \\ \sin\theta & \cos\theta\end{{bmatrix}} = "
                        + matrix_latex(rotation_matrix(theta)), key="rotation_latex")],
        [Block("markdown", f"cos θ = {c:.3f}, sin θ = {s:.3f}. Its columns have length 1 and are at right angles, "
                           "so it turns points without stretching them (its determinant is 1).", key="rotation_note")],
        [Block("figure", grid_figure(lin, f"Grid and points: θ {theta:g}°, scale {scale:g}, shear {shear:g}°"),
               key="grid_figure"),
         Block("image", warped, caption="The picture warped by the same matrix (cv2.warpAffine, as albumentations does)",
               key="warped_image")],
        [Block("latex", r"A = \underbrace{" + matrix_latex(translation(shift * image.shape[1], shift * image.shape[0]), 1)
               + r"}_{\text{translate}}\underbrace{" + matrix_latex(lin) + r"}_{\text{shear·rotate·scale}}", key="affine_latex")],
        [Block("latex", r"M = T(c)\,A\,T(-c) = " + matrix_latex(translation(cx, cy), 1)
               + matrix_latex(translation(shift * image.shape[1], shift * image.shape[0]) @ lin)
               + matrix_latex(translation(-cx, -cy), 1) + " = " + matrix_latex(m, 2), key="centre_latex")],
        [Block("markdown", f"The centre of this {image.shape[1]}×{image.shape[0]} picture is c = ({cx:g}, {cy:g}). "
                           "Read the product right to left: move the centre to the origin, transform, move it back.",
               key="centre_note")],
        [Block("metrics", [
            ("rot90: pixels kept exactly", f"{rot90['kept']:.0%}", "Rotate by 90° and back: every pixel returns unchanged."),
            (f"{theta:g}°: pixels kept exactly", f"{loss['kept']:.0%}", "Share of pixels identical after rotating by +θ and back by −θ."),
            (f"{theta:g}°: corners filled", f"{loss['filled']:.0%}", "Share of the output that came from outside the picture (filled with black)."),
            (f"{theta:g}°: round-trip error", f"{loss['round_trip_error']:.1f} / 255", "Mean absolute change after +θ then −θ."),
        ], key="loss_metrics")],
        [Block("figure", curve_figure(angles, {"pixels kept after +θ, −θ (%)": kept_curve}, "Only multiples of 90° keep every pixel",
                                      marker=(theta % 360, float(loss["kept"] * 100)), x_title="θ (degrees)", y_title="% kept"),
               key="kept_figure"),
         Block("image", diff, caption=f"Round-trip error at {theta:g}° (×4): interpolation blurs edges, corners are lost",
               key="round_trip_image")],
    ]
    return LessonView(rows, _links(theta, scale, shear, shift, samples))


def _links(theta: float, scale: float, shear: float, shift: float, samples: tuple[str, ...]) -> list[Link]:
    picked = {"samples": ",".join(samples)} if samples else {}
    return [
        Link(PLAYGROUND, f"Try Rotate {theta:g}° in the playground",
             {"transform": "Rotate", "limit": fmt_range(theta), **picked}, ":material/rotate_right:"),
        Link(PLAYGROUND, "Try this affine matrix in the playground",
             {"transform": "Affine", "rotate": fmt_range(theta), "scale": fmt_range(scale), "shear": fmt_range(shear),
              "translate_percent": fmt_range(shift), **picked}, ":material/transform:"),
        Link(PLAYGROUND, "Compare with RandomRotate90", {"transform": "RandomRotate90", **picked}, ":material/rotate_90_degrees_ccw:"),
    ]


LESSON = Lesson(
    key="geometry", number=2, title="Geometry as matrices", icon=":material/transform:",
    text=(
        "Every flip, rotation, zoom and shear moves **pixel coordinates** with a small matrix. "
        "A rotation by θ sends the point (x, y) to R(θ)·(x, y). Move the sliders and watch the grid, "
        "the labelled points and the picture move together: they are transformed by the same numbers.\n\n"
        "Pixel rows count **downwards**, so on pixel axes the same anticlockwise turn is written "
        "[[cos θ, sin θ], [−sin θ, cos θ]]; that is the matrix albumentations builds. Scale, shear and "
        "translation join it in one 3×3 *affine* matrix, and a rotation about the picture's centre is a "
        "translation, the rotation, and a translation back.\n\n"
        "Why do augmentation recipes prefer `RandomRotate90` when they can? A turn by a multiple of 90° moves "
        "every pixel onto another pixel: nothing is invented, nothing is lost. Any other angle lands between "
        "pixels, so colours are **interpolated** and the corners are **filled** with a constant."
    ),
    controls=(
        Control("theta", "Rotation θ (degrees)", "slider", 17.0, "Angle of the rotation, anticlockwise.", -180.0, 180.0, 1.0),
        Control("scale", "Scale", "slider", 1.0, "Zoom factor: above 1 enlarges, below 1 shrinks.", 0.5, 2.0, 0.05),
        Control("shear", "Shear (degrees)", "slider", 0.0, "Slants the picture along both axes.", -30.0, 30.0, 1.0),
        Control("shift", "Shift (share of the size)", "slider", 0.0, "Moves the picture right and down by this share of its size.",
                -0.3, 0.3, 0.01),
    ),
    images=1, default_samples=("Labelled grid",), build=build,
)
