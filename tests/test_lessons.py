"""Lessons registry, geometry, colour and noise: the numbers shown agree with albumentations and OpenCV."""

from __future__ import annotations

import albumentations as A
import albumentations.augmentations.geometric.functional as fgeometric
import cv2
import numpy as np
import pytest

from augment_core import AugLabError, lessons
from augment_core.lessons import colour, geometry, noise
from augment_core.lessons.figures import level_histogram


@pytest.fixture
def square(rgb_image: np.ndarray) -> np.ndarray:
    """A 64x64 seeded picture with structure."""
    return np.ascontiguousarray(rgb_image[:, 8:72])


# --- registry ---------------------------------------------------------------------------------

def test_registry_lists_seven_lessons_in_course_order():
    keys = lessons.list_lessons()
    assert len(keys) == 7
    assert [lessons.get_lesson(k).number for k in keys] == list(range(1, 8))
    assert keys[1] == "geometry"


def test_unknown_lesson_and_bad_values_are_user_errors(square):
    with pytest.raises(AugLabError, match="no lesson"):
        lessons.get_lesson("alchemy")
    with pytest.raises(AugLabError, match="Rotation"):
        lessons.build_lesson("geometry", [square], {"theta": 500})
    with pytest.raises(AugLabError, match="no setting"):
        lessons.build_lesson("geometry", [square], {"angle": 5})
    with pytest.raises(AugLabError, match="needs a picture"):
        lessons.build_lesson("geometry", [], {})


@pytest.mark.parametrize("key", lessons.list_lessons())
def test_every_lesson_builds_with_defaults_and_with_each_control_moved(key, square, rgb_image):
    lesson = lessons.get_lesson(key)
    pictures = [square, rgb_image[::-1].copy()][: lesson.images]
    default = lessons.build_lesson(key, pictures)
    assert default.blocks("figure"), "every lesson has a live figure"
    assert default.links, "every lesson links to a page to try it"
    assert all(link.page.startswith("pages/") for link in default.links)
    for control in lesson.controls:
        other = control.high if control.kind == "slider" else next(o for o in control.options if o != control.default)
        if other == control.default:
            other = control.low
        moved = lessons.build_lesson(key, pictures, {control.name: other})
        assert moved.blocks("figure")
    first = lesson.controls[0]
    value = (first.low if first.default == first.high else first.high) if first.kind == "slider" else \
        next(o for o in first.options if o != first.default)
    moved = lessons.build_lesson(key, pictures, {first.name: value})
    before = [b.content.to_json() for b in default.blocks("figure")]
    after = [b.content.to_json() for b in moved.blocks("figure")]
    assert before != after, "the first control changes a figure"


# --- geometry ---------------------------------------------------------------------------------

@pytest.mark.parametrize("theta", [-135.0, -17.0, 0.0, 17.0, 90.0, 123.0])
def test_rotation_matrix_is_orthonormal_with_determinant_one(theta):
    r = geometry.rotation_matrix(theta)
    np.testing.assert_allclose(r @ r.T, np.eye(2), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_allclose(geometry.map_points(r, np.array([[1.0, 0.0]])), [[np.cos(np.deg2rad(theta)), np.sin(np.deg2rad(theta))]], atol=1e-12)


@pytest.mark.parametrize(("theta", "scale", "shear", "shift"), [(17, 1, 0, 0), (-40, 1.3, 10, 0.1), (90, 0.7, -5, -0.2)])
def test_affine_about_centre_is_the_matrix_albumentations_builds(theta, scale, shear, shift):
    shape = (64, 80)
    ours = geometry.affine_about_centre(theta, scale, shear, shift, image_shape=shape)
    theirs = fgeometric.create_affine_transformation_matrix(
        {"x": shift * 80, "y": shift * 64}, {"x": shear, "y": shear}, {"x": scale, "y": scale}, theta, fgeometric.center(shape))
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_centre_rotation_is_translate_rotate_translate_back():
    m = geometry.affine_about_centre(30, image_shape=(64, 64))
    c = np.array([[31.5, 31.5]])
    np.testing.assert_allclose(geometry.map_points(m, c), c)  # the centre does not move
    np.testing.assert_allclose(m, geometry.translation(31.5, 31.5) @ geometry.linear_part(30) @ geometry.translation(-31.5, -31.5))


@pytest.mark.parametrize("theta", [17.0, -60.0, 150.0])
def test_points_move_as_albumentations_moves_keypoints(theta, square):
    points = np.array([[10.0, 12.0], [40.0, 20.0], [31.5, 31.5], [50.0, 55.0]])
    pipeline = A.Compose([A.Rotate(limit=(theta, theta), p=1.0, border_mode=cv2.BORDER_CONSTANT)],
                         keypoint_params=A.KeypointParams(format="xy", remove_invisible=False), seed=0)
    moved = np.asarray(pipeline(image=square, keypoints=points)["keypoints"])[:, :2]
    np.testing.assert_allclose(geometry.map_points(geometry.affine_about_centre(theta, image_shape=square.shape), points), moved, atol=1e-4)
    # Anticlockwise on screen: a point right of the centre moves up (smaller y) for a small positive angle.
    right = geometry.map_points(geometry.affine_about_centre(10, image_shape=square.shape), np.array([[50.0, 31.5]]))
    assert right[0, 1] < 31.5


def test_warped_picture_equals_albumentations_rotate(square):
    ours = geometry.warp(square, geometry.affine_about_centre(17, image_shape=square.shape))
    theirs = A.Compose([A.Rotate(limit=(17, 17), p=1.0, border_mode=cv2.BORDER_CONSTANT, fill=0)], seed=0)(image=square)["image"]
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1


def test_rot90_keeps_every_pixel_and_17_degrees_does_not(square):
    quarter = geometry.warp(square, geometry.affine_about_centre(90, image_shape=square.shape))
    np.testing.assert_array_equal(quarter, np.rot90(square, 1))  # anticlockwise, exactly
    exact = geometry.rotation_loss(square, 90)
    assert exact == {"kept": 1.0, "filled": 0.0, "round_trip_error": 0.0, "same_pixels": 1.0}
    lossy = geometry.rotation_loss(square, 17)
    assert lossy["same_pixels"] == 0.0  # interpolation invents values
    assert lossy["kept"] < 0.5 and lossy["round_trip_error"] > 1.0
    # The filled corners: four triangles of a square turned by 17°, about 0.26 of the area (minus rounding at the edge).
    t = np.deg2rad(17)
    corners = 1 - 1 / (np.cos(t) + np.sin(t)) ** 2 * 1.0
    assert 0.1 < lossy["filled"] < corners + 0.1


def test_geometry_view_shows_the_current_numbers(square):
    view = lessons.build_lesson("geometry", [square], {"theta": 30.0}, samples=("Cat",))
    assert "0.866" in view.block("rotation_latex").content and "-0.500" in view.block("rotation_latex").content
    fig = view.block("grid_figure").content
    mapped = next(t for t in fig.data if t.name == "mapped points")
    expected = geometry.map_points(geometry.linear_part(30.0), np.array(list(geometry.POINTS.values())))
    np.testing.assert_allclose(np.c_[mapped.x, mapped.y], expected)
    rotate = view.links[0]
    assert rotate.page == "pages/playground.py"
    assert rotate.query_params == {"transform": "Rotate", "limit": "30,30", "samples": "Cat"}


# --- colour -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 30.0), (1.5, -20.0), (0.5, 60.0)])
def test_histogram_after_linear_map_is_the_analytic_one(alpha, beta, square):
    lut = colour.linear_lut(alpha, beta)
    _, before = level_histogram(square)
    _, after = level_histogram(colour.apply_lut(square, lut))
    np.testing.assert_array_equal(colour.mapped_histogram(before, lut), after)


def test_brightness_alone_shifts_the_histogram():
    image = np.random.default_rng(1).integers(50, 150, (32, 32, 3), dtype=np.uint8)
    _, before = level_histogram(image)
    _, after = level_histogram(colour.apply_lut(image, colour.linear_lut(1.0, 30)))
    np.testing.assert_array_equal(after[80:180], before[50:150])
    assert after[:80].sum() == 0


def test_colour_maps_agree_with_albumentations(square):
    def run(t: A.BasicTransform) -> np.ndarray:
        return A.Compose([t], seed=0)(image=square)["image"].astype(int)

    bc = run(A.RandomBrightnessContrast(brightness_limit=(0.1, 0.1), contrast_limit=(0.3, 0.3), p=1.0))
    assert np.abs(colour.apply_lut(square, colour.linear_lut(1.3, 0.1 * 255)).astype(int) - bc).max() <= 1
    gamma = run(A.RandomGamma(gamma_limit=(70, 70), p=1.0))
    assert np.abs(colour.apply_lut(square, colour.gamma_lut(0.7)).astype(int) - gamma).max() <= 1
    hsv = run(A.HueSaturationValue(hue_shift_limit=(30, 30), sat_shift_limit=(20, 20), val_shift_limit=(0, 0), p=1.0))
    assert np.abs(colour.shift_hue_saturation(square, 60, 20).astype(int) - hsv).max() <= 1


def test_hue_shift_leaves_grey_alone():
    grey = np.full((8, 8, 3), 120, np.uint8)
    np.testing.assert_array_equal(colour.shift_hue_saturation(grey, 90, 40), grey)


# --- noise ------------------------------------------------------------------------------------

def test_gaussian_noise_is_seeded_and_has_the_asked_spread():
    grey = np.full((128, 128, 3), 128, np.uint8)
    a = noise.gaussian_noise(grey, 12, seed=3)
    np.testing.assert_array_equal(a, noise.gaussian_noise(grey, 12, seed=3))
    assert not np.array_equal(a, noise.gaussian_noise(grey, 12, seed=4))
    d = noise.difference(a, grey)
    assert d.std() == pytest.approx(12, rel=0.03)
    assert abs(d.mean()) < 0.2


def test_salt_and_pepper_hits_the_asked_share_with_black_or_white():
    grey = np.full((128, 128, 3), 128, np.uint8)
    out = noise.salt_and_pepper(grey, 0.1, seed=0)
    hit = np.any(out != grey, axis=-1)
    assert hit.mean() == pytest.approx(0.1, abs=0.01)
    assert set(np.unique(out[hit])) <= {0, 255}


@pytest.mark.parametrize(("size", "sigma"), [(3, 0.8), (7, 1.5), (15, 4.0)])
def test_blur_kernel_is_what_opencv_and_albumentations_blur_with(size, sigma, square):
    kernel = noise.gaussian_kernel(size, sigma)
    assert kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kernel, kernel.T)
    ours = noise.convolve(square, kernel).astype(int)
    assert np.abs(ours - cv2.GaussianBlur(square, (size, size), sigma).astype(int)).max() <= 1
    theirs = A.Compose([A.GaussianBlur(blur_limit=(size, size), sigma_limit=(sigma, sigma), p=1.0)], seed=0)(image=square)["image"]
    assert np.abs(ours - theirs.astype(int)).max() <= 1


def test_noise_view_histograms_tell_the_two_noises_apart(square):
    view = lessons.build_lesson("noise", [square], {"sigma": 10.0, "amount": 0.1})
    gauss, pepper = view.block("difference_figure").content.data
    zero = int(np.argmin(np.abs(np.asarray(gauss.x))))
    assert pepper.y[zero] / sum(pepper.y) > 0.85  # most salt-and-pepper differences are exactly 0
    assert gauss.y[zero] / sum(gauss.y) < 0.5  # most Gaussian ones are not
