"""Notebooks, for real: the notes' three examples typed into cells, executed by nbclient
on an ipykernel, through `codegen.backward`, `codegen.gradcheck` and `codegen notes.ipynb`.

The notebook prints what it computes as JSON lines; the tests read them back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

# The notes' numbers.
NEURON_DW = [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]
NEURON_DX = [0.3932238664829637, -0.5898357997244456]
F_GRAD = [2.0595697955721652, 1.5922327514838093]

CELLS = [
    "import math\nimport numpy as np\nimport json\nimport codegen\n%precision 6",
    # The neuron, as the notes write it, in a function.
    "def neuron(w, x):\n"
    "    # forward pass\n"
    "    dot = w[0]*x[0] + w[1]*x[1] + w[2]\n"
    "    f = 1.0 / (1+math.exp(-dot)) # sigmoid\n"
    "    return f",
    "def f(x, y):\n"
    "    # forward pass\n"
    "    sigy = 1.0 / (1 + math.exp(-y))\n"
    "    num = x + sigy\n"
    "    sigx = 1.0 / (1 + math.exp(-x))\n"
    "    xpy = x + y\n"
    "    xpysqr = xpy**2\n"
    "    den = sigx + xpysqr\n"
    "    invden = 1.0 / den\n"
    "    f = num * invden\n"
    "    return f",
    "!echo shell lines are left out\n"
    "def matmul(W, X):\n"
    "    # forward pass\n"
    "    D = W.dot(X)\n"
    "    return D",
    "%%capture\n# a cell magic: the CLI leaves the whole cell out\nprint('captured')",
    # A helper from another cell, and numpy's matrix product.
    "def sq(z):\n    return z * z",
    "def g(x, y):\n    return sq(x) * math.exp(y)\n\n\ndef affine(x, w, b):\n    return x @ w + b",
    "def _show(name, *values):\n"
    "    print(json.dumps({name: [np.asarray(v).tolist() for v in values]}))",
    # The library on the live functions.
    "w = [2, -3, -3] # random weights and data\n"
    "x = [-1, -2]\n"
    "_show('backward neuron floats', *codegen.backward(neuron)([2.0, -3.0, -3.0], [-1.0, -2.0]))\n"
    "_show('gradcheck neuron floats', codegen.gradcheck(neuron, [2.0, -3.0, -3.0], [-1.0, -2.0]))\n"
    "_show('backward neuron', *codegen.backward(neuron)(w, x))\n"
    "try:\n"
    "    _show('gradcheck neuron', codegen.gradcheck(neuron, w, x))\n"
    "except codegen.GradientMismatch as exc:\n"
    "    _show('gradcheck neuron', str(exc))",
    "_show('backward f', *codegen.backward(f)(3, -4))\n_show('gradcheck f', codegen.gradcheck(f, 3.0, -4.0))",
    "np.random.seed(0)\n"
    "W = np.random.rand(5, 10)\n"
    "X = np.random.rand(10, 3)\n"
    "dD = np.random.rand(5, 3)\n"
    "_show('backward matmul', W, X, dD, *codegen.backward(matmul)(W, X, dD))\n"
    "_show('gradcheck matmul', codegen.gradcheck(matmul, W, X))",
    "_show('backward g', *codegen.backward(g)(1.5, 0.25))\n"
    "rng = np.random.default_rng(0)\n"
    "_show('gradcheck affine', codegen.gradcheck(affine, rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)))",
    "# math.prod has no derivative rule\n"
    "\n"
    "def _bad(x):\n"
    "    y = x * 2\n"
    "    return math.prod([x, y])\n"
    "try:\n"
    "    codegen.backward(_bad)\n"
    "except codegen.CodegenError as exc:\n"
    "    _show('error', str(exc).splitlines()[0])",
    # What `codegen notes.ipynb` wrote beside the notebook, imported from it.
    "from notes_backward import neuron_backward, f_backward, matmul_backward\n"
    "_show('cli neuron floats', *neuron_backward([2.0, -3.0, -3.0], [-1.0, -2.0]))\n"
    "_show('cli neuron', *neuron_backward(w, x))\n"
    "_show('cli f', *f_backward(3, -4))\n"
    "_show('cli matmul', *matmul_backward(W, X, dD))",
]


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# The notes' examples")]
    nb.cells += [nbformat.v4.new_code_cell(cell) for cell in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def codegen_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`codegen notes.ipynb`, then the notebook executed: what it printed, by name,
    and the execution count of the cell that defined `bad`."""
    folder = tmp_path_factory.mktemp("notebook")
    path = folder / "notes.ipynb"
    nbformat.write(notebook(CELLS), path)
    result = codegen_cli("notes.ipynb", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "wrote notes_backward.py" in result.stderr
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    printed: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                for line in output["text"].splitlines():
                    if line.startswith("{"):
                        printed.update(json.loads(line))
            if "def _bad(" in cell.source:
                printed["bad cell"] = cell.execution_count
    printed["folder"] = folder
    return printed


def test_backward_and_gradcheck_take_the_notes_int_lists(executed: dict[str, Any]) -> None:
    dw, dx = executed["backward neuron"]
    assert dw == pytest.approx(NEURON_DW, rel=1e-12)
    assert dx == pytest.approx(NEURON_DX, rel=1e-12)
    (worst,) = executed["gradcheck neuron"]
    assert isinstance(worst, float) and worst < 1e-6, worst


def test_backward_gives_the_notes_numbers(executed: dict[str, Any]) -> None:
    dw, dx = executed["backward neuron floats"]
    assert dw == pytest.approx(NEURON_DW, rel=1e-12)
    assert dx == pytest.approx(NEURON_DX, rel=1e-12)
    assert executed["backward f"] == pytest.approx(F_GRAD, rel=1e-12)
    W, X, dD, dW, dX = (np.array(v) for v in executed["backward matmul"])
    np.testing.assert_allclose(dW, dD.dot(X.T), rtol=1e-12)
    np.testing.assert_allclose(dX, W.T.dot(dD), rtol=1e-12)
    x, y = 1.5, 0.25  # g(x, y) = sq(x) * exp(y), sq from another cell
    assert executed["backward g"] == pytest.approx([2 * x * np.exp(y), x * x * np.exp(y)], rel=1e-12)


def test_gradcheck_passes(executed: dict[str, Any]) -> None:
    for name in ("neuron floats", "f", "matmul", "affine"):
        (worst,) = executed[f"gradcheck {name}"]
        assert worst < 1e-6, name


def test_an_error_names_the_cell_and_its_line(executed: dict[str, Any]) -> None:
    (line,) = executed["error"]
    assert line == f"Cell In[{executed['bad cell']}]:5:12: error: no derivative rule for math.prod  [CG101]"


def test_the_cli_output_is_importable_from_the_notebook(executed: dict[str, Any]) -> None:
    dw, dx = executed["cli neuron floats"]
    assert dw == pytest.approx(NEURON_DW, rel=1e-12)
    assert dx == pytest.approx(NEURON_DX, rel=1e-12)
    assert executed["cli f"] == pytest.approx(F_GRAD, rel=1e-12)
    W, X, dD, _, _ = (np.array(v) for v in executed["backward matmul"])
    dW, dX = (np.array(v) for v in executed["cli matmul"])
    np.testing.assert_allclose(dW, dD.dot(X.T), rtol=1e-12)
    np.testing.assert_allclose(dX, W.T.dot(dD), rtol=1e-12)


def test_the_cli_neuron_takes_the_notes_int_lists(executed: dict[str, Any]) -> None:
    dw, dx = executed["cli neuron"]
    assert dw == pytest.approx(NEURON_DW, rel=1e-12)
    assert dx == pytest.approx(NEURON_DX, rel=1e-12)


def test_check_and_diff_on_the_notebook(executed: dict[str, Any]) -> None:
    folder: Path = executed["folder"]
    check = codegen_cli("--check", "--diff", "notes.ipynb", cwd=folder)
    assert check.returncode == 0, check.stderr
    assert check.stdout == ""
    path = folder / "notes.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].source = nb.cells[3].source.replace("xpy**2", "xpy**3")
    nbformat.write(nb, folder / "changed.ipynb")
    (folder / "changed_backward.py").write_bytes((folder / "notes_backward.py").read_bytes())
    stale = codegen_cli("--check", "--diff", "changed.ipynb", cwd=folder)
    assert stale.returncode == 1
    assert "would regenerate changed_backward.py" in stale.stderr
    assert "+    xpysqr = xpy**3" in stale.stdout


def test_cli_errors_name_the_cell(tmp_path: Path) -> None:
    cells = ["import math\n%matplotlib inline", "x = !ls\ndef f(x):\n    y = x * 2\n    return math.prod([x, y])"]
    nbformat.write(notebook(cells), tmp_path / "model.ipynb")
    result = codegen_cli("model.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:3] == [
        "model.ipynb:cell 2:4:12: error: no derivative rule for math.prod  [CG101]",
        "        return math.prod([x, y])",
        "               ^",
    ]
    assert not (tmp_path / "model_backward.py").exists()


def test_cli_on_a_file_that_is_no_notebook(tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    result = codegen_cli("broken.ipynb", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("broken.ipynb:1:1: error: cannot read the notebook: ")
    assert "Traceback" not in result.stderr


def test_ipython_syntax_is_left_out_and_python_kept() -> None:
    from codegen.read import notebook as nb_module

    cells = [
        "%%timeit\nx = 1",
        "%matplotlib inline\nfiles = !ls\n!pip install numpy\nnp.sum?\n?np.sum\n"
        "ok = a != b\nrest = a % b\nshare = a %b\nnot_magic = 'x = !y'",
    ]
    assembled = nb_module.assemble(nbformat.writes(notebook(cells)), "nb.ipynb")
    assert assembled.source.splitlines() == [
        "pass",
        "pass",
        "pass",
        "pass",
        "pass",
        "ok = a != b",
        "rest = a % b",
        "share = a %b",
        "not_magic = 'x = !y'",
    ]
    piece, line = assembled.where(7) or (None, 0)
    assert piece is not None and (piece.filename, line) == ("nb.ipynb:cell 2", 7)
