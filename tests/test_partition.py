"""Gradients assembled from slices that tile an array are written, not accumulated."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from codegen.optimize.partition import tile

GATES = [
    "H = h.shape[1]",
    "da = np.zeros_like(a)",
    "# backprop g = np.tanh(a[:, 3 * H:])",
    "da[:, 3 * H:] += (1 - g ** 2) * dg",
    "da[:, 2 * H:3 * H] += o * do",
    "dx = w * dy",
    "da[:, H:2 * H] += f * df",
    "da[:, :H] += i * di",
    "db = np.sum(da, axis=0)",
]


def test_slices_that_tile_the_array_are_written() -> None:
    assert tile(GATES) == [
        "H = h.shape[1]",
        "da = np.empty_like(a)",
        "# backprop g = np.tanh(a[:, 3 * H:])",
        "da[:, 3 * H:] = (1 - g ** 2) * dg",
        "da[:, 2 * H:3 * H] = o * do",
        "dx = w * dy",
        "da[:, H:2 * H] = f * df",
        "da[:, :H] = i * di",
        "db = np.sum(da, axis=0)",
    ]


def test_rows_tile_too() -> None:
    lines = ["n = len(x)", "dv = np.zeros_like(v)", "dv[:n] += p", "dv[n:] += q"]
    assert tile(lines)[1:] == ["dv = np.empty_like(v)", "dv[:n] = p", "dv[n:] = q"]


@pytest.mark.parametrize(
    "change",
    [
        lambda ls: [line for line in ls if "H:2 * H]" not in line],  # a gap
        lambda ls: ls[:-1] + ["da[:, :H] += z", ls[-1]],  # the same slice twice
        lambda ls: [line.replace("da[:, :H]", "da[:, :2 * H]") for line in ls],  # overlapping bounds
        lambda ls: [line.replace("H = h.shape[1]", "H = k - 1") for line in ls],  # H may be negative
        lambda ls: ls[1:],  # H unknown (a parameter)
        lambda ls: ls[:5] + ["dq = da * 2"] + ls[5:],  # da read before it is complete
        lambda ls: ls[:5] + ["for t in range(2):", "    da[:, :H] += 1"] + ls[5:],  # written in a loop
        lambda ls: [line.replace("da[:, :H]", "da[0, :H]") for line in ls],  # another axis indexed
        lambda ls: [line.replace("+= f * df", "+= f * da") for line in ls],  # reads itself
    ],
)
def test_anything_short_of_a_tiling_keeps_zeros_and_sums(change: Callable[[list[str]], list[str]]) -> None:
    lines = change(list(GATES))
    result = tile(lines)
    assert not any("empty_like" in line for line in result)
    assert result == lines
