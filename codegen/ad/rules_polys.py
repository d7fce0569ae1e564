"""Rule-table rows for np.diag (a vector's diagonal matrix, a matrix's diagonal)
and np.polyval (a polynomial's values)."""

from __future__ import annotations

import ast

from codegen.ad.rules import _rank, defrule

Statics = dict[str, ast.expr]


def _diag(index: int, count: int, statics: Statics) -> str:
    """np.diag is its own adjoint between a vector and a square matrix: a vector's
    gradient is the diagonal of g. A matrix's is g on the diagonal of zeros of its
    shape, which np.diag(g, k) gives only for a square matrix: the helper pads or
    cuts to the shape, and tells a vector at run time where the rank is unknown."""
    offset = ", k" if "k" in statics else ""
    if _rank(statics, 0) == 1:
        return f"np.diag(g{offset})"
    return f"_undiag(g, x{offset})"


defrule("numpy.diag", "x", keywords="k=0", kind="other", shape="diag", computed=_diag)
# The helper, met again when generated code is differentiated: linear in grad, and
# its adjoint is np.diag of the same offset in either direction.
defrule("numpy.undiag", "grad like", "np.diag(g, k)", None, keywords="k=0", kind="other", shape="unknown")


def _polyval_tangent(index: int, count: int, statics: Statics) -> str:
    return "np.polyval(t, x)" if index == 0 else "np.polyval(np.polyder(p), x) * t"


# out = p[0] x^(n-1) + ... + p[n-1]: each coefficient's gradient sums g times its power
# of x, a column of x's Vandermonde matrix (highest power first, as p).
defrule(
    "numpy.polyval",
    "p x",
    "np.ravel(g) @ np.vander(np.ravel(x), np.size(p))",
    "np.polyval(np.polyder(p), x) * g",
    kind="other",
    shape="unknown",
    tangents=_polyval_tangent,
)
# The derivative's coefficients p[i] * (n - 1 - i), met in polyval's gradient: linear in
# p, the last coefficient (the constant term) gets none.
defrule("numpy.polyder", "p", "np.append(g * np.arange(np.size(g), 0, -1), 0.0)", kind="other", shape="unknown")
# Columns x^(N-1), ..., x, 1: column i's derivative is (N-1-i) x^(N-2-i), the columns of
# np.vander(x, N - 1) scaled, and none for the last (never 0 * x^-1 at x = 0).
_VANDER_SLOPES = "np.vander(x, N - 1) * np.arange(N - 1, 0, -1)"
defrule(
    "numpy.vander",
    "x",
    f"np.sum(g[:, :-1] * {_VANDER_SLOPES}, axis=1)",
    statics="N",
    kind="other",
    shape="unknown",
    tangents=f"np.pad({_VANDER_SLOPES} * np.reshape(t, (-1, 1)), ((0, 0), (0, 1)))",
)
