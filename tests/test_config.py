"""`[tool.codegen]` and `[tool.black]` in real pyproject.toml files, read by the real command."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunCodegen = Callable[..., "subprocess.CompletedProcess[str]"]

FWD = "import math\n\n\ndef f(x, y):\n    a = x * y\n    return math.exp(a)\n"
TWO = FWD + "\n\ndef h(x):\n    return x * x\n"
LONG = (
    "import math\n\n\n"
    "def f(alpha_long_name, beta_long_name, gamma_long_name):\n"
    "    return math.exp(alpha_long_name * beta_long_name * gamma_long_name)\n"
)
NARROW = "def f_backward(\n"
WIDE = "def f_backward(alpha_long_name"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pyproject(directory: Path, text: str) -> Path:
    return write(directory / "pyproject.toml", text)


def test_output_pattern(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.codegen]\noutput = "{stem}_grad.py"\n')
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 0, result.stderr
    assert "wrote fwd_grad.py" in result.stderr
    assert not (project / "fwd_backward.py").exists()
    assert codegen("fwd.py", "-o", "{stem}_cli.py").returncode == 0
    assert (project / "fwd_cli.py").exists()


def test_output_pattern_with_directory(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.codegen]\noutput = "generated/{stem}.py"\n')
    write(project / "model" / "fwd.py", FWD)
    assert codegen("model/fwd.py").returncode == 0
    assert (project / "model" / "generated" / "fwd.py").exists()


def test_functions_and_cli_override(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.codegen]\nfunctions = ["h"]\n')
    write(project / "fwd.py", TWO)
    text = codegen("fwd.py", "-o", "-").stdout
    assert "def h_backward(" in text and "def f_backward(" not in text
    text = codegen("fwd.py", "-o", "-", "-f", "f").stdout
    assert "def f_backward(" in text and "def h_backward(" not in text


def test_wrt(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.codegen]\nwrt = ["y"]\n')
    write(project / "fwd.py", FWD)
    namespace: dict[str, object] = {}
    exec(codegen("fwd.py", "-o", "-").stdout, namespace)
    assert isinstance(namespace["f_backward"](1.0, 2.0), float)  # type: ignore[operator]


def test_line_length_and_cli_override(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.codegen]\nline-length = 40\n")
    write(project / "fwd.py", LONG)
    assert NARROW in codegen("fwd.py", "-o", "-").stdout
    assert WIDE in codegen("fwd.py", "-o", "-", "--line-length", "200").stdout


def test_assert_shapes(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.codegen]\nassert-shapes = true\n")
    write(project / "fwd.py", 'import numpy as np\n\n\ndef f(x: "N D", s: "D"):\n    return x * s\n')
    assert codegen("fwd.py").returncode == 0
    assert "assert s.shape == (D,)" in (project / "fwd_backward.py").read_text()
    pyproject(project, "[tool.codegen]\nassert_shapes = false\n")
    assert "assert" not in codegen("fwd.py", "-o", "-").stdout
    assert "assert" in codegen("fwd.py", "-o", "-", "--assert-shapes").stdout


def test_underscored_keys(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.codegen]\nline_length = 40\nexit_nonzero_on_change = true\n")
    write(project / "fwd.py", LONG)
    assert NARROW in codegen("fwd.py", "-o", "-").stdout
    assert codegen("fwd.py").returncode == 1


def test_black_settings_are_honoured(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.black]\nline-length = 40\ntarget-version = ["py310", "py311"]\n')
    write(project / "fwd.py", LONG)
    result = codegen("fwd.py", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert NARROW in result.stdout


def test_codegen_line_length_beats_black(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.black]\nline-length = 40\n\n[tool.codegen]\nline-length = 200\n")
    write(project / "fwd.py", LONG)
    assert WIDE in codegen("fwd.py", "-o", "-").stdout


def test_bad_black_target_version(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.black]\ntarget-version = ["py2"]\n')
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 2
    assert "[tool.black] target-version" in result.stderr and "'py2'" in result.stderr


def test_other_black_keys_are_ignored(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.black]\nskip-string-normalization = true\nexclude = "x"\n')
    write(project / "fwd.py", FWD)
    assert codegen("fwd.py").returncode == 0


def test_unknown_key(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.codegen]\nline-lenght = 100\n")
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 2
    assert "unknown key 'line-lenght' in [tool.codegen]" in result.stderr
    assert "did you mean 'line-length'?" in result.stderr
    assert "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "fwd_backward.py").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('line-length = "wide"', "must be a positive integer"),
        ("line-length = 0", "must be a positive integer"),
        ('functions = "f"', "must be a list of names"),
        ("wrt = [1]", "must be a list of names"),
        ('quiet = "yes"', "must be true or false"),
        ("assert-shapes = 1", "must be true or false"),
        ('output = "backward.py"', "must contain {stem}"),
        ('output = "{name}.py"', "only {stem} is known"),
        ('output = "{stem:x}.py"', "write it plainly"),
        ('output = "{stem!s:>9}.py"', "write it plainly"),
        ('target-version = ["py99"]', "unknown target version"),
    ],
)
def test_bad_values(project: Path, codegen: RunCodegen, line: str, message: str) -> None:
    pyproject(project, f"[tool.codegen]\n{line}\n")
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_codegen_section_must_be_a_table(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool]\ncodegen = "yes"\n')
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 2
    assert "[tool.codegen] must be a table" in result.stderr


def test_invalid_toml(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.codegen\nline-length = 1\n")
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 2
    assert "pyproject.toml: cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_nearest_pyproject_with_the_table_wins(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.codegen]\noutput = "{stem}_root.py"\n')
    pyproject(project / "a", '[project]\nname = "a"\n')
    pyproject(project / "b", '[tool.codegen]\noutput = "{stem}_b.py"\n')
    write(project / "a" / "f.py", FWD)
    write(project / "b" / "g.py", FWD)
    assert codegen("a/f.py").returncode == 0
    assert (project / "a" / "f_root.py").exists()
    assert codegen("b/g.py").returncode == 0
    assert (project / "b" / "g_b.py").exists()
    assert codegen("g.py", cwd=project / "b").returncode == 0
    assert not (project / "b" / "g_root.py").exists()


def test_search_starts_at_the_common_parent(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.codegen]\noutput = "{stem}_root.py"\n')
    pyproject(project / "b", '[tool.codegen]\noutput = "{stem}_b.py"\n')
    write(project / "a" / "f.py", FWD)
    write(project / "b" / "g.py", FWD)
    assert codegen("a/f.py", "b/g.py").returncode == 0
    assert (project / "a" / "f_root.py").exists()
    assert (project / "b" / "g_root.py").exists()


def test_search_stops_at_the_repository_root(tmp_path: Path, codegen: RunCodegen) -> None:
    pyproject(tmp_path, "[tool.codegen]\nnot-a-key = 1\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "fwd.py", FWD)
    result = codegen("fwd.py", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "fwd_backward.py").exists()


def test_pyproject_at_the_repository_root_counts(tmp_path: Path, codegen: RunCodegen) -> None:
    repo = tmp_path / "repo"
    (repo / ".hg").mkdir(parents=True)
    pyproject(repo, '[tool.codegen]\noutput = "{stem}_hg.py"\n')
    write(repo / "src" / "fwd.py", FWD)
    assert codegen("src/fwd.py", cwd=repo).returncode == 0
    assert (repo / "src" / "fwd_hg.py").exists()


def test_quiet_and_verbose(project: Path, codegen: RunCodegen) -> None:
    config = pyproject(project, "[tool.codegen]\nquiet = true\n")
    write(project / "fwd.py", FWD)
    quiet = codegen("fwd.py")
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = codegen("fwd.py", "-v")
    assert "is up to date" in loud.stderr
    assert f"using [tool.codegen] from {config}" in loud.stderr
    pyproject(project, "[tool.codegen]\nverbose = true\n")
    assert "is up to date" in codegen("fwd.py").stderr
    assert codegen("fwd.py", "-q").stderr == ""


def test_exit_nonzero_on_change(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.codegen]\nexit-nonzero-on-change = true\n")
    write(project / "fwd.py", FWD)
    assert codegen("fwd.py").returncode == 1
    assert codegen("fwd.py").returncode == 0


# ---- ruff's settings: line length after black's, and which modules are the project's --
@pytest.mark.parametrize("where", ["pyproject.toml", "ruff.toml", ".ruff.toml"])
def test_ruff_line_length_is_honoured_without_black(project: Path, codegen: RunCodegen, where: str) -> None:
    write(project / where, ("[tool.ruff]\n" if where == "pyproject.toml" else "") + "line-length = 40\n")
    write(project / "fwd.py", LONG)
    result = codegen("fwd.py", "-v")
    assert result.returncode == 0, result.stderr
    assert NARROW in (project / "fwd_backward.py").read_text()
    assert f"from {project / where}" in result.stderr
    table = "[tool.ruff]" if where == "pyproject.toml" else "ruff's settings"
    assert f"line length 40, from {table} in {project / where}" in result.stderr


def test_black_and_codegen_line_lengths_beat_ruffs(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, "[tool.ruff]\nline-length = 40\n\n[tool.black]\nline-length = 200\n")
    write(project / "fwd.py", LONG)
    result = codegen("fwd.py", "-v")
    assert result.returncode == 0
    assert WIDE in (project / "fwd_backward.py").read_text()
    assert "line length 200, from [tool.black] in " in result.stderr
    pyproject(project, "[tool.ruff]\nline-length = 200\n\n[tool.codegen]\nline-length = 40\n")
    assert codegen("fwd.py").returncode == 0
    assert NARROW in (project / "fwd_backward.py").read_text()


def test_bad_ruff_line_length(project: Path, codegen: RunCodegen) -> None:
    pyproject(project, '[tool.ruff]\nline-length = "wide"\n')
    write(project / "fwd.py", FWD)
    result = codegen("fwd.py")
    assert result.returncode == 2 and "[tool.ruff] line-length" in result.stderr


RULES = (
    "import numpy as np\n\n\n"
    "def act(x):\n    return np.tanh(x)\n\n\n"
    "def act_backward(x, dout):\n    return dout * (1 - np.tanh(x) ** 2)\n\n\n"
    "def f(x):\n    return np.sum(act(x))\n"
)


@pytest.mark.parametrize(
    ("ruff", "layout", "own"),
    [
        ("", "layers.py", True),  # beside pyproject.toml: ruff's project root
        ("", "models/layers.py", False),  # not in the project root nor in src/
        ("", "src/layers.py", True),
        ('src = ["models"]\n', "models/layers.py", True),
    ],
)
def test_the_rules_module_is_grouped_as_ruff_groups_it(
    project: Path, codegen: RunCodegen, ruff: str, layout: str, own: bool
) -> None:
    pyproject(project, "[tool.ruff]\n" + ruff)
    write(project / layout, RULES)
    assert codegen(layout).returncode == 0
    text = (project / layout).with_name("layers_backward.py").read_text()
    separator = "\n\n" if own else "\n"
    assert f"import numpy as np{separator}from layers import act, act_backward\n" in text
    if importlib.util.find_spec("ruff") is not None:  # and ruff agrees
        target = str(Path(layout).with_name("layers_backward.py"))
        lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "I", target], cwd=project)
        assert lint.returncode == 0
