"""Mosaics and Display objects: exact tile placement and colours, labels drawn where they belong."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlplens import NodeGrid  # noqa: E402
from mlplens.displays import DigitGrid  # noqa: E402
from mlplens.errors import MlplensError  # noqa: E402
from mlplens.render import Legend, colormap_lut, grid_shape, node_mosaic, side_by_side  # noqa: E402

TILES = np.array([[[0, 50], [100, 150]], [[200, 250], [255, 1]], [[7, 8], [9, 10]]], np.uint8)


@pytest.mark.parametrize("count, expected", [(1, (1, 1)), (3, (1, 3)), (10, (2, 5)),
                                             (11, (2, 8)), (256, (8, 32)),
                                             (512, (16, 32))])
def test_grid_shape(count, expected):
    assert grid_shape(count) == expected


def test_grid_shape_respects_columns():
    assert grid_shape(10, columns=10) == (1, 10)
    assert grid_shape(3, columns=7) == (1, 3)


def test_gray_mosaic_places_every_pixel_exactly():
    picture = np.asarray(node_mosaic(TILES, colormap_lut("gray"), scale=1))
    # gap 2 around tiles of 2x2: width 3 * (2 + 2) + 2, height 2 + 2 + 2.
    assert picture.shape == (6, 14, 3)
    for index in range(3):
        left = 2 + index * 4
        np.testing.assert_array_equal(picture[2:4, left:left + 2, 0], TILES[index])
        np.testing.assert_array_equal(picture[2:4, left:left + 2, 1], TILES[index])
    background = picture.copy()
    for index in range(3):
        background[2:4, 2 + index * 4:4 + index * 4] = 255
    assert (background == 255).all()


def test_scale_repeats_pixels():
    picture = np.asarray(node_mosaic(TILES[:1], colormap_lut("gray"), scale=3))
    gap = 6
    np.testing.assert_array_equal(picture[gap:gap + 6, gap:gap + 6, 0],
                                  np.kron(TILES[0], np.ones((3, 3), np.uint8)))


def test_viridis_colours_match_matplotlib():
    picture = np.asarray(node_mosaic(TILES[:1], colormap_lut("viridis"), scale=1))
    expected = np.round(np.array(matplotlib.colormaps["viridis"](150)[:3]) * 255)
    np.testing.assert_array_equal(picture[3, 3], expected.astype(np.uint8))  # TILES[0][1][1]


def test_unknown_colormap_is_a_clear_error():
    with pytest.raises(MlplensError, match="unknown colormap 'no-such-map'"):
        colormap_lut("no-such-map")


def test_labels_are_drawn_above_their_own_tile_only():
    images = np.full((2, 28, 28), 255, np.uint8)
    picture = np.asarray(node_mosaic(images, colormap_lut("gray"), labels=["", "8"], scale=1))
    label_size = 9
    band_top, band_bottom = 2, 2 + label_size + 3
    first = picture[band_top:band_bottom, 2:30]
    second = picture[band_top:band_bottom, 32:60]
    assert (first == 255).all()
    assert (second < 128).any()


def test_title_and_legend_add_their_bands():
    plain = node_mosaic(TILES, colormap_lut("gray"), scale=1)
    framed = node_mosaic(TILES, colormap_lut("gray"), scale=1, title="T",
                         legend=Legend("lo", "0", "hi"))
    assert framed.height == plain.height + 30 + 44
    assert framed.width == 320
    bar = np.asarray(framed)[framed.height - 44 + 6 + 5, 42:42 + 236, 0]
    assert bar[0] == 0 and bar[-1] == 255 and (np.diff(bar.astype(int)) >= 0).all()


def test_side_by_side_sizes():
    a = node_mosaic(TILES, colormap_lut("gray"), scale=1)
    b = node_mosaic(TILES[:1], colormap_lut("gray"), scale=2)
    both = side_by_side([("", a), ("", b)], gap=10)
    assert both.size == (a.width + b.width + 30, 30 + max(a.height, b.height) + 10)
    np.testing.assert_array_equal(np.asarray(both)[30:30 + a.height, 10:10 + a.width],
                                  np.asarray(a))
    # A heading wider than its picture widens the slot, so it is never clipped.
    from mlplens.render.mosaic import _font

    heading = "a heading much wider than the picture"
    wide = side_by_side([(heading, a), ("", b)], gap=10)
    assert wide.width == int(_font(18).getlength(heading)) + b.width + 30


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="images must be uint8"):
        node_mosaic(TILES.astype(float), colormap_lut("gray"))


def test_node_grid_draws_the_layer_it_computed(tiny_stack):
    grid = NodeGrid.from_stack(tiny_stack, layer=-1, method="linear", normalize="symmetric")
    assert grid.images.shape == (3, 2, 2)
    # Output row 1 of linear is [0, -1, 1, 3]: symmetric -> [128, 86, 170, 255].
    assert grid.images[1].ravel().tolist() == [128, 86, 170, 255]
    grid.plot(cmap="gray")
    assert grid.figure_ is grid.ax_.figure
    shown = grid.image_.get_array()
    np.testing.assert_array_equal(shown[0:2, 3:5], grid.images[1])
    assert np.ma.is_masked(shown[0, 2])  # the gap between tiles is background
    assert [text.get_text() for text in grid.ax_.texts] == ["0", "1", "2"]
    assert "Output layer" in grid.ax_.get_title()
    plt.close(grid.figure_)


def test_node_grid_plots_into_a_given_axes(tiny_stack):
    figure, (left, right) = plt.subplots(1, 2)
    NodeGrid.from_stack(tiny_stack, layer=1).plot(ax=right, colorbar=False)
    assert right.images and not left.images
    plt.close(figure)


def test_digit_grid_labels_are_the_digits():
    images = np.zeros((5, 28, 28), np.uint8)
    grid = DigitGrid.from_images(images, np.array([5, 0, 4, 1, 9]), count=3).plot()
    assert [text.get_text() for text in grid.ax_.texts] == ["5", "0", "4"]
    plt.close(grid.figure_)


# ---- the fast paths draw exactly what the plain ones would --------------------------------------

def _noise_tiles(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("count, scale", [(512, 2), (37, 3), (10, 4), (3, 1)])
def test_cached_digit_labels_equal_pillows_text(count, scale, monkeypatch):
    from mlplens.render import mosaic

    images = _noise_tiles(count)
    labels = [str(index) for index in range(count)]
    assert mosaic._digit_glyphs(max(9, min(16, 4 + 3 * scale))) is not None  # the fast path
    fast = np.asarray(node_mosaic(images, colormap_lut("viridis"), labels=labels, scale=scale,
                                  title="T", legend=Legend("lo", "0", "hi")))
    monkeypatch.setattr(mosaic, "_digit_glyphs", lambda size: None)  # Pillow's text, label by label
    plain = np.asarray(node_mosaic(images, colormap_lut("viridis"), labels=labels, scale=scale,
                                   title="T", legend=Legend("lo", "0", "hi")))
    np.testing.assert_array_equal(fast, plain)


def test_labels_that_are_not_numbers_use_pillow():
    picture = np.asarray(node_mosaic(_noise_tiles(2), colormap_lut("gray"), labels=["a", "12"],
                                     scale=1))
    assert (picture[2:14, 2:30] < 128).any()


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (64, 33), (1, 9, 3), (40, 21, 3)])
def test_png_writer_round_trips_through_pillow(shape, tmp_path):
    from PIL import Image

    from mlplens.render.png import encode_png

    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    if shape[0] > 2:
        pixels[1] = pixels[0]  # a repeated row: the Up filter
        pixels[-1] = pixels[-2]
    path = tmp_path / "x.png"
    path.write_bytes(encode_png(pixels))
    with Image.open(path) as read:
        assert read.mode == ("L" if len(shape) == 2 else "RGB")
        np.testing.assert_array_equal(np.asarray(read), pixels)


def test_png_writer_refuses_what_it_cannot_write():
    from mlplens.render.png import encode_png

    for bad in (np.zeros((2, 2), np.float32), np.zeros((2, 2, 4), np.uint8),
                np.zeros((0, 3), np.uint8), np.zeros(5, np.uint8)):
        with pytest.raises(ValueError, match="expected uint8"):
            encode_png(bad)


def test_save_png_keeps_grey_pictures_grey_and_colour_in_colour(tmp_path):
    from PIL import Image

    from mlplens.output import save_png

    for cmap, mode in (("gray", "L"), ("viridis", "RGB")):
        picture = node_mosaic(_noise_tiles(12), colormap_lut(cmap), labels=list("abcdefghijkl"),
                              scale=2, title="T", legend=Legend("lo", "0", "hi"))
        path = save_png(picture, tmp_path / f"{cmap}.png")
        with Image.open(path) as read:
            assert read.mode == mode
            np.testing.assert_array_equal(np.asarray(read.convert("RGB")), np.asarray(picture))
    rgba = Image.new("RGBA", (3, 2), (1, 2, 3, 4))
    with Image.open(save_png(rgba, tmp_path / "rgba.png")) as read:
        assert read.mode == "RGBA"


def test_small_images_get_tiles_about_mnists_size() -> None:
    from mlplens.figures.layers import default_scale

    assert [default_scale(count) for count in (10, 64, 512)] == [4, 3, 2]
    assert [default_scale(count, 8) for count in (10, 64, 512)] == [12, 9, 6]
    assert default_scale(10, 14) == 8 and default_scale(10, 32) == 4
