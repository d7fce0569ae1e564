"""The author's comments stay on the forward lines the output repeats (issue 20)."""

from __future__ import annotations

import numpy as np

import codegen
from tests.support import check_gradients, load

SOURCE = """import numpy as np


def layer(x, w, b):
    a = x.dot(w) + b  # affine
    h = np.tanh(a)  # tanh(a) * tanh(a) is not computed here
    for t in range(3):
        h = h * 0.5  # decay
    return np.sum(h * h)  # squared
"""


def test_comments_stay_on_the_lines_repeated() -> None:
    forward, backward, code = load(SOURCE)
    assert "    a = x.dot(w) + b  # affine\n" in code
    assert "h = np.tanh(a)  # tanh(a) * tanh(a) is not computed here\n" in code
    assert "h_2 = h_1 * 0.5  # decay\n" in code
    assert "# squared" not in code  # the output value is not computed in the backward
    rng = np.random.default_rng(0)
    check_gradients(forward["layer"], backward["layer_backward"], [rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)])


def test_split_style_keeps_them_in_its_forward() -> None:
    code = codegen.generate(SOURCE, style="split")
    forward = code.split("def layer_forward", 1)[1].split("\ndef ", 1)[0]
    assert "out = np.sum(h_1 * h_1)  # squared" in forward and "# affine" in forward


def test_a_comment_of_a_staged_line_goes_on_its_last_stage() -> None:
    source = "import math\n\n\ndef f(x, y):\n    z = math.exp(x * y) + math.sin(x)  # both\n    return z * z\n"
    code = codegen.generate(source)
    assert code.count("# both") == 1
    line = next(line for line in code.splitlines() if "# both" in line)
    assert line.strip().startswith("z = ")
