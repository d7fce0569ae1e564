"""The head of a generated function: its signature, its docstring, and the
checks of its parameters (numbers by default, shapes) and of its gradients."""

from __future__ import annotations

import ast

from codegen import ir, unparse
from codegen.ad.differentiate import Backward
from codegen.emit import assertions, typed
from codegen.naming import identifiers
from codegen.options import Options


def signature(fn: ir.Function, returns: str = "") -> str:
    parts: list[str] = []
    posonly = [p.code for p in fn.params if p.kind == "posonly"]
    if posonly:
        parts += posonly + ["/"]
    parts += [p.code for p in fn.params if p.kind == "positional"]
    outputs = typed.differentiated(typed.outputs(fn.types, len(fn.outputs)), fn.outputs, fn.held) if fn.types else None
    if outputs:
        defaulted = any("=" in p.code for p in fn.params if p.kind != "kwonly")
        parts += typed.upstream(fn.upstream, outputs, defaulted)
    else:
        parts += [f"{u}=1.0" for u in fn.upstream]
    kwonly = [p.code for p in fn.params if p.kind == "kwonly"]
    if kwonly:
        parts += ["*"] + kwonly
    return f"def {fn.name}_backward({', '.join(parts)}){returns}:"


def return_annotation(fn: ir.Function, back: Backward, options: Options) -> str:
    """` -> tuple[float, float]` for a fully typed function: its gradients have
    their parameters' types (and the value its return type, with return_value)."""
    if fn.types is None:
        return ""
    grads = typed.gradients(fn.types, [p.name for p in back.differentiable])
    if options.return_value:
        return f" -> tuple[{fn.types.returns}, {grads}]"
    return f" -> {grads}"


def quoted_docstring(lines: list[str]) -> str:
    body = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{body}\n"""'


def returns_line(fn: ir.Function, back: Backward) -> str:
    names = [p.name for p in back.differentiable]
    grads = [unparse.expression(back.gradients[n]) for n in names]
    outputs = ", ".join(fn.differentiated)
    held = ""
    if fn.held:
        held = f"\nNot differentiated, returned as computed: {', '.join(fn.held)} (no upstream gradient)."
    if len(grads) == 1:
        return f"Returns {grads[0]}, the gradient of {outputs} with respect to {names[0]}.{held}"
    if grads:
        return f"Returns ({', '.join(grads)}), the gradients of {outputs} with respect to {', '.join(names)}.{held}"
    return f"Returns None: no parameter is differentiated.{held}"


def held_lines(back: Backward) -> list[str]:
    if not back.constant:
        return []
    return ["Held constant: " + ", ".join(f"{p.name} ({p.reason})" for p in back.constant) + "."]


def docstring(fn: ir.Function, back: Backward, options: Options = Options(), checked: list[str] | None = None) -> str:
    returns = returns_line(fn, back)
    if options.return_value:
        value = fn.outputs[0] if len(fn.outputs) == 1 else f"({', '.join(fn.outputs)})"
        returns = f"Returns ({value}, gradients). " + returns.replace("Returns ", "The gradients: ", 1)
    first = f"Backward pass of {fn.name}: upstream {', '.join(fn.upstream)} in, gradients out."
    return quoted_docstring([first, "", returns, *held_lines(back), *by_default_lines(checked or []), *_unranked(back), *_unshaped(fn, back), *_loose_labels(fn), *_redrawn(fn)])


def numbers_by_default(fn: ir.Function, body: list[str]) -> list[str]:
    """The parameters that only their number defaults (`eps=1e-5`) make numbers, in a
    function whose values may be arrays, that `body` reads: the output takes them to
    be numbers (no summing back of what they broadcast) and checks that they are."""
    if not fn.arrays or not fn.by_default:
        return []
    read = identifiers(ast.parse("\n".join(body)))
    return [name for name in fn.by_default if name in read]


def _taken(checked: list[str]) -> str:
    if len(checked) == 1:
        return f"{checked[0]} is taken to be a number (its default)"
    return f"{', '.join(checked)} are taken to be numbers (their defaults)"


def by_default_lines(checked: list[str]) -> list[str]:
    """The docstring's line on the parameters taken to be numbers."""
    return [f"{_taken(checked)}: annotate {'it' if len(checked) == 1 else 'one'} to pass an array."] if checked else []


def default_checks(checked: list[str], np_name: str) -> list[str]:
    """An array passed for a parameter taken to be a number fails here, not as a
    gradient of the wrong shape. An assert: every mode keeps it (the HVP's forward
    mode over this backward too)."""
    return [f'assert {np_name}.ndim({name}) == 0, "{_taken([name])}"' for name in checked]


def _loose_labels(fn: ir.Function) -> list[str]:
    """Labels beside `np.arange(N)` that may pick a row twice (of shape (N, 1)): their
    gradients scatter with np.add.at; an annotation proves one label a row."""
    if not fn.loose_labels:
        return []
    labels = sorted(fn.loose_labels)
    names = ", ".join(labels)
    return [f'Labels {names} may pick a row more than once, so gradients add up with np.add.at; annotating {labels[0]}: "N" (one label a row) writes them with +=.']


def _unranked(back: Backward) -> list[str]:
    """Where a product's operands may be vectors, matrices or stacks, a helper works its
    gradient out at run time; an annotation makes it exact."""
    if not back.unranked:
        return []
    names = ", ".join(back.unranked)
    return [f'Products of {names} work for any ranks; annotating shapes ({back.unranked[0]}: "N D") makes them exact.']


def _unshaped(fn: ir.Function, back: Backward) -> list[str]:
    """Where broadcasting may have grown a gradient and no shape says by how much, a
    helper sums it back at run time; annotating the parameters' shapes makes it exact."""
    if not back.summed_at_run_time:
        return []
    # Held constant only by wrt, a parameter's shape still decides how its partners broadcast.
    params = [p for p in fn.params if p in back.differentiable or p.reason == "not listed in wrt"]
    names = [p.name for p in params if p.name not in fn.annotated and not fn.taken_as_number(p.name)]
    if not names:
        return []
    indexed = [n for n in names if n in fn.maybe_lists or fn.is_list(n)]  # read element by element: vectors
    unknown = "The shape of {} is unknown" if len(names) == 1 else "The shapes of {} are unknown"
    if names == indexed[:1]:
        how = f'annotating {names[0]}: "N"'
    else:
        example = f'{indexed[0]}: "N"' if indexed else f'{names[0]}: "N D"'
        how = f"annotating {'it' if len(names) == 1 else 'them'} (float for a number, a shape such as {example} for an array)"
    return [f"{unknown.format(', '.join(names))}, so broadcast gradients are summed back at run time; {how} makes that exact."]


def _redrawn(fn: ir.Function) -> list[str]:
    """A fused backward runs the forward pass again, random draws included."""
    if not fn.draws:
        return []
    names = ", ".join(sorted(fn.draws))
    return [f"Its forward pass draws {names} again: call it with the random generator in the state the forward call had (seeded alike), or use split style, whose cache keeps the draws."]


def gradients_return(back: Backward) -> str:
    grads = [unparse.expression(back.gradients[p.name]) for p in back.differentiable]
    return ", ".join(grads) if grads else "None"


def indent_all(lines: list[str]) -> str:
    return "\n".join("    " + line if line else line for line in "\n".join(lines).split("\n"))


def parameter_checks(fn: ir.Function, code: list[str], np_name: str) -> list[str]:
    """With assert_shapes: the asserts on the annotated parameters, under a comment."""
    if not fn.annotated:
        return []
    reserved = assertions.reserved_names(code, [p.name for p in fn.params]) | {np_name}
    return ["# the shapes the annotations promise", *assertions.parameter_checks(fn.annotated, np_name, reserved)]


def gradient_checks(fn: ir.Function, back: Backward) -> list[str]:
    """With assert_shapes: each gradient of an annotated parameter has its shape."""
    checks = [
        assertions.same_shape(gradient.id, param.name, bool(fn.annotated[param.name]), back.spellings["np"])
        for param in back.differentiable
        if param.name in fn.annotated
        for gradient in [back.gradients[param.name]]
        if isinstance(gradient, ast.Name)
    ]
    return ["# each gradient has its parameter's shape", *checks] if checks else []
