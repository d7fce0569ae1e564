"""The facts of numpy's operations live in one table (codegen/ad/operations.py):
a differentiable method without its entry fails here, not silently elsewhere."""

from __future__ import annotations

import numpy as np

from codegen.ad import operations
from codegen.read.resolve import rule_for


def test_every_differentiable_ndarray_method_has_its_facts() -> None:
    missing = [
        m for m in dir(np.ndarray)
        if not m.startswith("_") and rule_for(f"method.{m}", 1, True) is not None
        and not operations.known(m)
    ]  # fmt: skip
    assert not missing, f"methods with a rule row but no entry in operations: {missing}"


def test_the_facts_agree_with_each_other() -> None:
    for name in ("reshape", "transpose", "swapaxes", "squeeze", "expand_dims"):
        assert operations.recomputed_view(name)
        assert operations.view_method(name) or operations.view_function(name)
    assert not operations.proves_array("copy")  # lists have .copy() too
    assert operations.view_method("T") and "T" in operations.ARRAY_ATTRIBUTES
    assert operations.reduces("linalg.norm") and not operations.reduces("cumsum")


def test_the_facts_match_numpy() -> None:
    """What the table says shares storage does, and what it says is fresh does not."""
    x = np.arange(6.0).reshape(2, 3)
    assert np.shares_memory(x.reshape(3, 2), x) and np.shares_memory(x.T, x) and np.shares_memory(np.squeeze(x), x)
    for name in ("exp", "tanh", "sqrt", "copy", "zeros_like", "ones_like"):
        assert operations.fresh(name)
        assert not np.shares_memory(getattr(np, name)(x), x)
    for name in dir(np.ndarray):
        if operations.proves_array(name):
            assert not hasattr([], name) and not hasattr(1.0, name) and not hasattr((), name), name
