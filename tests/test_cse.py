"""Common subexpressions: computed once where that is safe, left alone where not."""

from __future__ import annotations

import pytest

from codegen.naming import Names
from codegen.optimize.cse import eliminate

PURE = {"np", "math"}


def run(*lines: str) -> list[str]:
    return eliminate(list(lines), Names(set()), PURE)


def test_repeated_call_is_named_once_before_its_first_use() -> None:
    assert run("a = np.exp(x) + 1", "b = np.exp(x) * y") == [
        "exp_x = np.exp(x)",
        "a = exp_x + 1",
        "b = exp_x * y",
    ]


def test_uses_in_one_statement_are_shared() -> None:
    assert run("d[np.arange(n), y] += g / p[np.arange(n), y]") == [
        "arange_n = np.arange(n)",
        "d[arange_n, y] += g / p[arange_n, y]",
    ]


def test_a_value_already_named_is_reused() -> None:
    assert run("e = np.exp(x)", "b = np.exp(x) * y") == ["e = np.exp(x)", "b = e * y"]


def test_a_whole_assigned_value_is_not_replaced_by_a_shared_name() -> None:
    # `b = e` would make b and e one array: a later `b += ...` would change e.
    lines = ["e = np.exp(x)", "b = np.exp(x)"]
    assert run(*lines) == lines


@pytest.mark.parametrize(
    "between",
    ["x = y", "x, z = z, x", "z += 1", "z[0] = 1", "for i in range(2):", "    z = z + 1", "if c:"],
)
def test_rebinding_or_mutation_between_uses_ends_the_run(between: str) -> None:
    lines = ["a = np.exp(x) + 1", between, "b = np.exp(x) * y"]
    assert run(*lines) == lines


def test_rebinding_the_reused_name_ends_the_run() -> None:
    lines = ["e = np.exp(x)", "e = y", "b = np.exp(x) * y"]
    assert run(*lines) == lines


def test_parts_of_conditional_expressions_are_not_hoisted() -> None:
    lines = ["a = np.log(x) if c else 0.0", "b = np.log(x) + 1 if c else 1.0"]
    assert run(*lines) == lines


def test_unknown_calls_and_mutating_methods_are_not_shared() -> None:
    lines = ["a = foo(x) + 1", "b = foo(x) + 2", "c = w.pop() + 1", "d = w.pop() + 2"]
    assert run(*lines) == lines


def test_cheap_arithmetic_on_names_and_constants_is_left_written_twice() -> None:
    lines = ["a = 2 * x * y", "b = 2 * x * z", "c = u > 0", "d = g * (u > 0)", "e = math.sqrt(math.pi) * x", "f = math.sqrt(math.pi) * y"]
    assert run(*lines) == lines


def test_comments_stay_and_do_not_end_a_run() -> None:
    assert run("a = np.exp(x) + 1", "# backprop a = np.exp(x) + 1", "b = np.exp(x) * y") == [
        "exp_x = np.exp(x)",
        "a = exp_x + 1",
        "# backprop a = np.exp(x) + 1",
        "b = exp_x * y",
    ]


def test_new_names_never_shadow_existing_ones() -> None:
    assert run("exp_x = 3", "a = np.exp(x) + exp_x", "b = np.exp(x) * y") == [
        "exp_x = 3",
        "exp_x_1 = np.exp(x)",
        "a = exp_x_1 + exp_x",
        "b = exp_x_1 * y",
    ]


def test_nested_repeats_are_shared_largest_first() -> None:
    assert run("a = np.sum(x == m, axis=1) + 1", "b = np.sum(x == m, axis=1) * (x == m)") == [
        "is_m = x == m",
        "sum_is_m = np.sum(is_m, axis=1)",
        "a = sum_is_m + 1",
        "b = sum_is_m * is_m",
    ]


def test_functions_of_numpy_submodules_are_shared_but_random_draws_never() -> None:
    assert run("a = np.linalg.inv(x) * 2", "b = np.linalg.inv(x) * y") == [
        "inv_x = np.linalg.inv(x)",
        "a = inv_x * 2",
        "b = inv_x * y",
    ]
    lines = ["a = np.random.rand(3) * 2", "b = np.random.rand(3) * y", "c = np.random.default_rng(0).normal() + 1", "d = np.random.default_rng(0).normal() + 2"]
    assert run(*lines) == lines


def test_what_both_branches_of_a_conditional_compute_is_computed_once() -> None:
    assert run("a = f(np.exp(x)) if c else np.exp(x) + 1", "b = np.exp(x) * y") == [
        "exp_x = np.exp(x)",
        "a = f(exp_x) if c else exp_x + 1",
        "b = exp_x * y",
    ]


def test_a_branch_that_is_the_whole_value_is_not_replaced() -> None:
    # `a = e if c else e + 1` would make a and e one array on one branch.
    lines = ["e = np.exp(x)", "a = np.exp(x) if c else np.exp(x) + 1"]
    assert run(*lines) == lines


def test_a_later_assignment_moves_up_to_the_first_use() -> None:
    # as by hand: db = solve(A.T, g), then dA = -np.outer(db, x)
    assert run("dA = -np.outer(np.linalg.solve(A.T, g), x)", "db = np.linalg.solve(A.T, g)") == [
        "db = np.linalg.solve(A.T, g)",
        "dA = -np.outer(db, x)",
    ]


@pytest.mark.parametrize("between", ["db = y", "z = db + 1"])
def test_an_assignment_does_not_move_above_a_use_or_a_binding_of_its_name(between: str) -> None:
    lines = ["dA = -np.outer(np.linalg.solve(A.T, g), x)", between, "db = np.linalg.solve(A.T, g)"]
    assert run(*lines)[-1] == "db = np.linalg.solve(A.T, g)"


def test_an_if_that_only_rebinds_names_ends_only_the_runs_that_read_them() -> None:
    block = ["if np.ndim(g) == 0:", "    g = np.broadcast_to(g, np.shape(x))"]
    assert run("e = np.exp(x)", *block, "b = np.exp(x) * g") == ["e = np.exp(x)", *block, "b = e * g"]
    lines = ["a = np.exp(g) + 1", *block, "b = np.exp(g) * 2"]
    assert run(*lines) == lines
    mutating = ["if c:", "    z[0] = 1"]
    lines = ["a = np.exp(x) + 1", *mutating, "b = np.exp(x) * y"]
    assert run(*lines) == lines


def test_adding_into_a_gradient_the_backward_owns_mutates_nothing_else() -> None:
    lines = ["dA = np.linalg.inv(A) * g", "dA -= h", "dA += np.linalg.inv(A) * k"]
    assert eliminate(list(lines), Names(set()), PURE, frozenset({"dA"})) == [
        "inv_A = np.linalg.inv(A)",
        "dA = inv_A * g",
        "dA -= h",
        "dA += inv_A * k",
    ]
    assert run(*lines) == lines  # any other name may share an array that += changes
    reads = ["a = np.exp(dA) + 1", "dA += h", "b = np.exp(dA) * 2"]
    assert eliminate(list(reads), Names(set()), PURE, frozenset({"dA"})) == reads
