"""Everything that shapes the output, in one place (like black's `Mode`)."""

from __future__ import annotations

from dataclasses import dataclass

STYLES = ("fused", "split")
MODES = ("reverse", "forward", "hvp")


@dataclass(frozen=True)
class Options:
    """How to generate: which functions, with respect to what, in which style.

    `style="fused"` writes `f_backward(params, dout)` that recomputes the
    forward pass; `style="split"` writes `f_forward(params) -> (out, cache)` and
    `f_backward(dout, cache)`, the layer API of hand-written numpy networks.
    `return_value` makes a fused backward return `(value, gradients)`.
    `mode="forward"` writes `f_jvp(params, tangents) -> (out, out_tangent)`;
    `mode="hvp"` writes `f_hvp(params, vectors)`, Hessian-vector products by
    forward mode over the generated backward.
    `assert_shapes` makes the generated code assert the shapes codegen assumed
    from the parameters' annotations (see `codegen.assertions`).
    `list_literals=False` keeps list gradients as element stores (`dw[0] = ...`)
    instead of literals: the HVP's inner backward, which forward mode reads.
    `src` are the directories whose modules are the project's own, for the
    grouping of imports (ruff's `src`); empty: only the input's own module.
    """

    functions: tuple[str, ...] | None = None
    wrt: tuple[str, ...] | None = None
    line_length: int = 88
    target_versions: tuple[str, ...] = ()
    style: str = "fused"
    return_value: bool = False
    mode: str = "reverse"
    allow_generated: bool = False
    assert_shapes: bool = False
    list_literals: bool = True
    src: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES and self.mode != "hvp-inner":
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, not {self.style!r}")
        problem = conflict(self.style, self.mode, self.return_value)
        if problem:
            raise ValueError(problem)


def conflict(style: str, mode: str, return_value: bool, flags: bool = False) -> str | None:
    """Why these settings do not go together (one would silently ignore another),
    or None; `flags`: named as the command line spells them."""
    split = "--style split" if flags else "style='split'"
    value = "--return-value" if flags else "return_value=True"
    mode_name = (f"--mode {mode}" if flags else f"mode={mode!r}") if mode != "hvp" or not flags else "--hvp"
    if style == "split" and mode != "reverse":
        return f"{split} does not go with {mode_name}: split is reverse mode's forward/backward pair"
    if return_value and style == "split":
        return f"{value} does not go with {split}: its forward function already returns the value"
    if return_value and mode != "reverse":
        returned = "the value with its tangent" if mode == "forward" else "Hessian-vector products"
        return f"{value} does not go with {mode_name}, which returns {returned}"
    return None
