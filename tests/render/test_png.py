"""The clip writer's PNG encoder: files any reader opens, with the exact pixels, the same bytes each time."""

from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from usd_synth.errors import UsdSynthError
from usd_synth.render.png import encode_png, write_png


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((7, 5), np.uint8),
        ((7, 5, 1), np.uint8),
        ((6, 9, 3), np.uint8),
        ((4, 3, 4), np.uint8),
        ((9, 11), np.uint16),
        ((1, 1), np.uint16),
        ((240, 320), np.uint16),
    ],
)
def test_round_trip(shape, dtype):
    a = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    data = encode_png(a)
    Image.open(io.BytesIO(data)).verify()  # chunk CRCs and structure
    back = iio.imread(io.BytesIO(data))
    assert back.dtype == dtype and np.array_equal(back.reshape(a.shape), a)


def test_byte_order_does_not_matter():
    a = np.arange(12, dtype="<u2").reshape(3, 4) * 5000
    assert encode_png(a) == encode_png(a.astype(">u2")) == encode_png(a[:, ::-1][:, ::-1])


def test_smooth_depth_compresses_and_is_deterministic(tmp_path):
    yy, xx = np.mgrid[0:240, 0:320]
    depth = (2000 + 3 * xx + yy).astype(np.uint16)
    write_png(tmp_path / "a.png", depth)
    assert (tmp_path / "a.png").read_bytes() == encode_png(depth)
    assert len(encode_png(depth)) < depth.nbytes / 10
    assert np.array_equal(iio.imread(tmp_path / "a.png"), depth)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.float32),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4, 4, 3), np.uint16),
        np.zeros((0, 4), np.uint8),
        np.zeros(5, np.uint8),
    ],
)
def test_bad_arrays_are_refused(bad):
    with pytest.raises(UsdSynthError, match="PNG needs"):
        encode_png(bad)
