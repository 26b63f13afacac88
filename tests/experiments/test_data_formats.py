"""PFM and 16-bit PNG io: round trips, both PFM byte orders, bottom-to-top rows."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from sins.experiments.data.formats import read_pfm, read_png16, write_pfm, write_png16


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), color=st.booleans(), little=st.booleans(), seed=st.integers(0, 10**6))
def test_pfm_round_trip(tmp_path_factory, h, w, color, little, seed):
    a = np.random.default_rng(seed).normal(size=(h, w, 3) if color else (h, w)).astype(np.float32)
    p = tmp_path_factory.mktemp("pfm") / "x.pfm"
    write_pfm(p, a, little_endian=little)
    np.testing.assert_array_equal(read_pfm(p), a)


def _hand_written_pfm(path, rows_bottom_to_top, little: bool):
    h = len(rows_bottom_to_top)
    w = len(rows_bottom_to_top[0])
    fmt = "<" if little else ">"
    body = b"".join(struct.pack(f"{fmt}{w}f", *r) for r in rows_bottom_to_top)
    path.write_bytes(f"Pf\n{w} {h}\n{-1.0 if little else 1.0}\n".encode() + body)


@pytest.mark.parametrize("little", [True, False])
def test_pfm_reads_rows_bottom_to_top_in_both_byte_orders(tmp_path, little):
    p = tmp_path / "d.pfm"
    _hand_written_pfm(p, [[1.0, 2.0, 3.0], [4.0, 5.0, np.inf]], little)  # first stored row = bottom
    a = read_pfm(p)
    np.testing.assert_array_equal(a, np.array([[4.0, 5.0, np.inf], [1.0, 2.0, 3.0]], np.float32))


def test_pfm_writer_byte_order_and_header(tmp_path):
    a = np.array([[1.5, -2.0]], np.float32)
    write_pfm(tmp_path / "le.pfm", a, little_endian=True)
    write_pfm(tmp_path / "be.pfm", a, little_endian=False)
    le, be = (tmp_path / "le.pfm").read_bytes(), (tmp_path / "be.pfm").read_bytes()
    assert le.startswith(b"Pf\n2 1\n-1.0\n") and be.startswith(b"Pf\n2 1\n1.0\n")
    assert le.endswith(struct.pack("<2f", 1.5, -2.0)) and be.endswith(struct.pack(">2f", 1.5, -2.0))


def test_pfm_rejects_other_files(tmp_path):
    (tmp_path / "x.pfm").write_bytes(b"P6\n1 1\n255\n\x00\x00\x00")
    with pytest.raises(ValueError, match="not a PFM"):
        read_pfm(tmp_path / "x.pfm")


def test_png16_kitti_disparity_round_trip(tmp_path):
    d = np.array([[0.0, 1.0 / 256, 12.5], [255.99, np.nan, -3.0]])
    write_png16(tmp_path / "d.png", d, scale=256)
    with Image.open(tmp_path / "d.png") as im:
        assert im.mode.startswith("I;16") and np.array(im).dtype == np.uint16
        raw = np.array(im)
    np.testing.assert_array_equal(raw, [[0, 1, 3200], [65533, 0, 0]])
    back = read_png16(tmp_path / "d.png", 256)
    np.testing.assert_allclose(back, [[0, 1 / 256, 12.5], [65533 / 256, 0, 0]])


def test_png16_rejects_8bit(tmp_path):
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(tmp_path / "x.png")
    with pytest.raises(ValueError, match="16-bit"):
        read_png16(tmp_path / "x.png")
