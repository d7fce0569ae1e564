"""A battery of forward modules written as users write them (tests/users/*.py: course
layers and losses, scipy-style test functions, physics and finance scripts), called
with what users pass: Python ints and floats, lists of ints, int arrays, 0-d to 4-d
float arrays, labels as arrays or lists, single samples and batches.

Every call is checked in three ways: the fused backward against central differences
in float64, the split forward/backward pair against the fused backward, and forward
mode against reverse mode. The constructs these modules first used and codegen
refuses are pinned as clean refusals (a CodegenError with a position)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load

USERS = Path(__file__).parent / "users"
R = np.random.default_rng(0)


def n(size: Any) -> Any:
    return R.normal(size=size)


def u(*shape: int) -> Any:
    return R.uniform(0.5, 1.5, size=shape)


mask = (R.uniform(size=(4, 5)) > 0.5).astype(float)

# module -> (function, arguments) calls
CALLS = {
    "layers": [
        ("affine_forward", (n(size=(3, 4)), n(size=(4, 5)), n(size=5))),
        ("affine_forward", (n(size=(3, 2, 2)), n(size=(4, 5)), n(size=5))),
        ("affine_forward", (n(size=(1, 4)), n(size=(4, 5)), n(size=(1, 5)))),
        ("relu_forward", (n(size=(3, 4)),)),
        ("relu_forward", (n(size=6),)),
        ("relu_forward", (1.5,)),
        ("leaky_relu_forward", (n(size=(3, 4)),)),
        ("leaky_relu_forward", (-0.7,)),
        ("affine_relu_forward", (n(size=(3, 4)), n(size=(4, 5)), n(size=5))),
        ("dropout_forward", (n(size=(4, 5)), mask)),
        ("batchnorm_forward", (n(size=(6, 3)), u(3), n(size=3))),
        ("layernorm_forward", (n(size=(4, 5)), u(5), n(size=5))),
        ("relu_forward", (np.array([[1, -2], [3, -4]]),)),
        ("relu_forward", (np.array(1.5),)),
        ("relu_forward", (3,)),
        ("affine_forward", (np.array([[1, 2], [3, 4]]), n(size=(2, 3)), n(size=3))),
        ("dropout_forward", (n(size=(4, 5)), mask > 0)),
        ("batchnorm_forward", (n(size=(6, 3)), 1.5, 0.2)),
        ("layernorm_forward", (n(size=(4, 5)), 1.5, 0.2)),
        ("leaky_relu_forward", (np.array([1, -2, 3]),)),
    ],
    "losses": [
        ("svm_loss", (n(size=(5, 4)), np.array([0, 3, 1, 2, 1]))),
        ("softmax_loss", (n(size=(5, 4)), np.array([0, 3, 1, 2, 1]))),
        ("softmax_loss", (n(size=(5, 4)), [0, 3, 1, 2, 1])),
        ("softmax_loss_vectorized", (n(size=(3, 4)), n(size=(5, 3)), np.array([0, 3, 1, 2, 1]))),
        ("svm_loss_naive", (n(size=(3, 4)), n(size=(5, 3)), np.array([0, 3, 1, 2, 1]))),
        ("svm_loss_naive", (n(size=(3, 4)), n(size=(5, 3)), [0, 3, 1, 2, 1])),
        ("softmax_loss_naive", (n(size=(3, 4)), n(size=(5, 3)), np.array([0, 3, 1, 2, 1]))),
        ("l2_loss", (n(size=(4, 1)), n(size=4))),
        ("l2_loss", (n(size=(4, 3)), n(size=(4, 3)))),
        ("l2_loss", (n(size=4), np.array([1, 2, 0, 3]))),
    ],
    "recurrent": [
        ("rnn_step_forward", (n(size=(3, 4)), n(size=(3, 5)), n(size=(4, 5)), n(size=(5, 5)), n(size=5))),
        ("rnn_step_forward", (n(size=4), n(size=5), n(size=(4, 5)), n(size=(5, 5)), n(size=5))),
        ("rnn_forward", (n(size=(2, 3, 4)), n(size=(2, 5)), n(size=(4, 5)), n(size=(5, 5)), n(size=5))),
        ("lstm_step_forward", (n(size=(2, 3)), n(size=(2, 4)), n(size=(2, 4)), n(size=(3, 16)), n(size=(4, 16)), n(size=16))),
        ("word_embedding_forward", (np.array([[0, 2, 1], [2, 2, 3]]), n(size=(4, 3)))),
        ("word_embedding_forward", (np.array([0, 2, 2]), n(size=(4, 3)))),
        ("word_embedding_forward", ([0, 2, 2], n(size=(4, 3)))),
        ("word_embedding_forward", (2, n(size=(4, 3)))),
        ("rnn_step_forward", (n(size=(1, 4)), n(size=(1, 5)), n(size=(4, 5)), n(size=(5, 5)), n(size=(1, 5)))),
        ("temporal_affine_forward", (n(size=(2, 3, 4)), n(size=(4, 5)), n(size=5))),
        ("attention", (n(size=(3, 4)), n(size=(5, 4)), n(size=(5, 2)))),
    ],
    "caches": [
        ("affine_forward", (n(size=(3, 4)), n(size=(4, 5)), n(size=5))),
        ("affine_forward", (n(size=(3, 2, 2)), n(size=(4, 5)), n(size=5))),
        ("relu_forward", (n(size=(3, 4)),)),
        ("relu_forward", (1.5,)),
        ("affine_relu_forward", (n(size=(3, 4)), n(size=(4, 5)), n(size=5))),
        ("batchnorm_forward", (n(size=(6, 3)), u(3), n(size=3), {"eps": 1e-5})),
        ("svm_loss", (n(size=(5, 4)), np.array([0, 3, 1, 2, 1]))),
        ("svm_loss", (n(size=(5, 4)), [0, 3, 1, 2, 1])),
        ("rnn_step_forward", (n(size=(3, 4)), n(size=(3, 5)), n(size=(4, 5)), n(size=(5, 5)), n(size=5))),
        ("scaled_exp", (0.3, 2.0)),
        ("scaled_exp", (1, 2)),
    ],
    "conv": [
        ("conv_forward_naive", (n(size=(1, 2, 3, 3)), n(size=(2, 2, 3, 3)), n(size=2))),
        ("max_pool_forward_naive", (n(size=(2, 2, 4, 4)),)),
    ],
    "benchmark_functions": [
        ("rosenbrock", ([0.3, -0.4, 1.2],)),
        ("rosenbrock", (n(size=4),)),
        ("rosenbrock", (n(size=(3, 2)),)),
        ("rosenbrock", ([1, 2, 0],)),
        ("rastrigin", ([0.3, -0.4, 1.2],)),
        ("rastrigin", (n(size=3),)),
        ("ackley", ([0.3, -0.4, 1.2],)),
        ("ackley", (n(size=3),)),
        ("rosen_np", ([0.3, -0.4, 1.2],)),
        ("rosen_np", (n(size=4),)),
        ("sphere", ([0.3, -0.4, 1.2],)),
        ("sphere", (n(size=3),)),
        ("styblinski_tang", (n(size=3),)),
        ("styblinski_tang", (n(size=(2, 2)),)),
        ("styblinski_tang", (0.7,)),
    ],
    "physics_finance": [
        ("projectile_range", (20, 0.6)),
        ("projectile_range", (20.0, 0.6)),
        ("pendulum_energy", (0.4, 0.1)),
        ("pendulum_energy", (1, 0)),
        ("black_scholes_call", (100.0, 95.0, 0.5, 0.03, 0.2)),
        ("black_scholes_call", (100, 95, 1, 0.03, 0.2)),
        ("npv", (0.05, [100.0, 50.0, -20.0])),
        ("npv", (0.05, [100, 50, -20])),
        ("npv", (0.05, n(size=3))),
        ("npv", (0.05, np.array([100, 50, -20]))),
        ("kinetic", (2, 3)),

        ("compound", (1000, 0.05)),
        ("spring_chain", ([0.0, 1.2, 2.1, 2.9],)),
        ("spring_chain", (np.array([0.0, 1.2, 2.1, 2.9]),)),
        ("kinetic", (n(size=3), u(3))),
        ("kinetic", (n(size=(4, 3)), u(4, 1))),
        ("kinetic", (2.0, 3.0)),
    ],
    "activations": [
        ("softmax", (n(size=(3, 4)),)),
        ("softmax", (n(size=4),)),
        ("cross_entropy", (n(size=(3, 4)), np.array([1, 0, 3]))),
        ("cross_entropy", (n(size=(3, 4)), [1, 0, 3])),
        ("softplus_sum", (n(size=(3, 4)),)),
        ("softplus_sum", (0.3,)),
        ("softplus_sum", (np.array(0.3),)),
        ("rnn_forward_list", (n(size=(2, 3, 4)), n(size=(2, 5)), n(size=(4, 5)), n(size=(5, 5)), n(size=5))),
        ("huber", (np.array([0.3, -2.0, 1.7, -0.2]),)),
        ("huber", (np.array([[0.3, -2.0], [1.7, -0.2]]),)),
        ("huber", (-2.5,)),
        ("clipped", (np.array([0.3, -2.0, 1.7, -0.2]),)),
        ("clipped", (0.5,)),
        ("power_mean", (u(4),)),
        ("power_mean", (u(2, 3),)),
        ("logsumexp", (n(size=4),)),
        ("logsumexp", (n(size=(2, 3)),)),
        ("gram", (n(size=(3, 2)),)),
        ("gram", (n(size=3),)),
        ("normalize_rows", (n(size=(3, 2)),)),
    ],
    "scalar_scripts": [
        ("newton_sqrt", (2.0,)),
        ("newton_sqrt", (2,)),
        ("newton_sqrt", (u(3),)),
        ("horner", ([1.0, -2.0, 0.5], 0.7)),
        ("horner", ([1, -2, 3], 2)),
        ("horner", (n(size=3), n(size=2))),
        ("piecewise", (2.0,)),
        ("piecewise", (0.5,)),
        ("piecewise", (-1.0,)),
        ("piecewise", (3,)),
        ("bisect_like", (0.7,)),
        ("distance", ([0.0, 1.0, 2.0], [1.5, -1.0, 0.3])),
        ("distance", (n(size=3), n(size=3))),
        ("max_of_list", ([0.3, -1.2, 2.5],)),
        ("max_of_list", (np.array([0.3, -1.2, 2.5]),)),
        ("weighted_avg", ([1.0, 2.0, 3.0], [0.2, 0.5, 0.3])),
        ("weighted_avg", (n(size=3), u(3))),
        ("weighted_avg", ([1, 2, 3], [1, 2, 1])),
        ("orbit", (1.0, 0.0, 0.0, 1.0)),
        ("orbit", (1, 0, 0, 1)),
        ("mean_var", ([1.0, 2.5, 0.5],)),
        ("mean_var", ([1, 4, 2],)),
        ("mean_var", (n(size=4),)),
        ("dot_terms", ([0.3, 1.2, -0.5], [1.0, 2.0, 3.0], 3)),
        ("dot_terms", (n(size=3), n(size=3), 2)),
        ("dot_terms", ([1, 2, 3], [4, 5, 6], 3)),
        ("dot_terms", (n(size=(3, 2)), n(size=3), 3)),
        ("mean_of", ([0.3, 1.2, -0.5],)),
        ("mean_of", ([1, 2, 4],)),
        ("mean_of", (n(size=4),)),
        ("mean_of", (n(size=(3, 2)),)),
        ("centred_squares", ([0.3, 1.2, -0.5],)),
        ("centred_squares", ([1, 2, 4],)),
        ("centred_squares", (n(size=4),)),
        ("stacked_rows", (n(size=3), n(size=2))),
        ("stacked_rows", ([0.2, 0.4, 0.1], 0.7)),
        ("fsum_of", ([0.3, 1.2], 0.5)),
        ("fsum_of", (n(size=3), 2)),
        ("fsum_of", ([1, 2], 3)),
        ("pair_products", (n(size=3),)),
        ("pair_products", ([0.5, -1.5],)),
    ],
    "idioms": [
        ("relu_copy", (n(size=(3, 4)),)),
        ("relu_copy", (n(size=4),)),
        ("relu_mask", (n(size=(3, 4)),)),
        ("relu_mask", (-0.4,)),
        ("positive_sum", (n(size=(3, 4)),)),
        ("as_batch", (n(size=3), n(size=(3, 2)))),
        ("as_batch", (n(size=(4, 3)), n(size=(3, 2)))),
        ("to_float", (np.array([[1, 2, 0], [0, -1, 3]]), n(size=(3, 2)))),
        ("to_float", (n(size=(2, 3)), n(size=(3, 2)))),
        ("asarray_float", ([1, 2, 3],)),
        ("asarray_float", ([0.1, 0.2],)),
        ("asarray_float", (n(size=(2, 2)),)),
        ("asarray_float", (0.7,)),
        ("onehot_ce", (n(size=(3, 4)), np.array([1, 0, 3]))),
        ("reverse_loop", (n(size=4),)),
        ("reverse_loop", ([0.3, 1.0, -0.5],)),
        ("build_array", (n(size=2),)),
        ("build_array", ([0.3, 1.1],)),
        ("comp_list", (n(size=3),)),
        ("comp_list", ([0.3, 1.1],)),
        ("enum_discount", (n(size=3),)),
        ("enum_discount", ([0.3, 1.1],)),
        ("strided", (n(size=6),)),
        ("spatial_bn", (n(size=(2, 3, 2, 2)), u(3), n(size=3))),
        ("batchnorm_modes", (n(size=(5, 3)), u(3), n(size=3))),
        ("batchnorm_modes", (n(size=(5, 3)), u(3), n(size=3), {"mode": "test", "running_mean": n(size=3), "running_var": u(3)})),
        ("svm_naive_cols", (n(size=(3, 4)), n(size=(5, 3)), np.array([0, 3, 1, 2, 1]))),
        ("batched_attention", (n(size=(2, 3, 4)), n(size=(2, 5, 4)), n(size=(2, 5, 2)))),
        ("batched_attention", (n(size=(3, 4)), n(size=(5, 4)), n(size=(5, 2)))),
        ("two_layer", (n(size=(4, 3)), np.array([0, 2, 1, 1]), {"W1": n(size=(3, 5)), "b1": n(size=5), "W2": n(size=(5, 3)), "b2": n(size=3)})),
        ("std_norm", (n(size=5),)),
        ("std_norm", (n(size=(2, 3)),)),
        ("outer_loss", (n(size=3), n(size=3))),
        ("keyword_calls", (n(size=(3, 4)), n(size=(4, 2)), n(size=2))),
        ("sample_std", (n(size=(4, 3)),)),
        ("sample_std", (n(size=(4, 3)), 1)),
        ("sample_std", (np.array([[1, 2], [0, -1], [3, 3]]),)),
        ("halves", (n(size=(3, 4)),)),
        ("halves", (np.array([[1, 2], [0, -1]]),)),
        ("stacked_features", (n(size=3), n(size=3))),
        ("stacked_features", (n(size=(2, 3)), n(size=(2, 3)))),
        ("gram_trace", (n(size=(3, 3)),)),
        ("gram_trace", (np.array([[1, 2, 0], [0, -1, 3]]),)),
        ("masked_rows", (n(size=(4, 3)), n(size=(3, 2)), np.array([True, False, True, True]))),
    ],
    "notes_and_axes": [
        ("matrix_product", (n(size=(5, 10)), n(size=(10, 3)))),
        ("matrix_product", (n(size=(5, 10)), n(size=10))),
        ("matrix_product", (n(size=10), n(size=10))),
        ("positional_axes", (n(size=(3, 4)),)),
        ("reshape_forms", (n(size=(2, 3)),)),
        ("reshape_forms", (n(size=(2, 3, 2)),)),
        ("dot_forms", (n(size=(3, 3)), n(size=3))),
        ("dot_forms", (n(size=(3, 3)), n(size=(3, 3)))),
        ("powers", (u(3), u(3))),
        ("powers", (u(2, 2), 2.0)),
        ("math_powers", (1.3, 0.4)),
        ("math_powers", (2, 1)),
        ("reductions", (n(size=(3, 4)),)),
        ("contractions", (n(size=(2, 3)), n(size=(3, 2)))),
    ],
    "helpers": [
        ("learned_slope", (n(size=5), 0.3)),
        ("learned_slope", (n(size=5), np.array([0.3, 0.2, 0.1, 0.4, 0.5]))),
        ("learned_slope_keyword", (n(size=5), 0.3)),
        ("scaled_by_param", (n(size=3), 0.7)),
        ("scaled_by_param", (n(size=3), n(size=3))),
        ("mixed_kinds", (0.4, n(size=3))),
        ("unpack_helper", (n(size=3), n(size=3))),
        ("unpack_helper", (0.3, n(size=3))),
        ("module_constant", (n(size=3),)),
        ("module_constant", (n(size=(2, 3)),)),
        ("helper_twice", (n(size=(2, 3)),)),
        ("calls_early", (2.0, -1.5)),
        ("calls_early", (2, 3)),
    ],
    "training_scripts": [
        ("int_accumulator", (n(size=3),)),
        ("int_accumulator", ([1.5, -0.5],)),
        ("int_accumulator", ([1, 2, 3],)),
        ("chained_methods", (n(size=(3, 4)),)),
        ("label_mask_rows", (n(size=(4, 2)), np.array([1, 0, 1, 0]))),
        ("label_mask_rows", (n(size=4), np.array([1, 0, 1, 0]))),
        ("bce", (n(size=3), n(size=(5, 3)), np.array([1, 0, 1, 1, 0]))),
        ("bce", (n(size=(3, 1)), n(size=(5, 3)), np.array([[1], [0], [1], [1], [0]]))),
        ("bce", (n(size=(3, 1)), n(size=(5, 3)), np.array([1, 0, 1, 1, 0]))),
        ("bce_broadcast", (n(size=(4, 1)), np.array([1.0, 0.0, 1.0, 1.0]))),
        ("bce_broadcast", (n(size=4), np.array([1, 0, 1, 1]))),
        ("bce_broadcast", (0.3, 1)),
        ("kmeans_cost", (n(size=(6, 2)), n(size=(3, 2)))),
        ("reverse_rnn", (n(size=(2, 3, 4)), n(size=(2, 4)), n(size=(4, 4)))),
        ("reverse_rnn", (n(size=(2, 3, 4)), n(size=4), n(size=(4, 4)))),
        ("while_index", (n(size=3),)),
        ("while_index", ([0.3, 1.0],)),
        ("mse_ravel", (n(size=(4, 1)), n(size=4))),
        ("sgd_steps", (n(size=3), n(size=(5, 3)), n(size=5))),
        ("sgd_steps", (n(size=(3, 1)), n(size=(5, 3)), n(size=(5, 1)))),
    ],
    "loops_and_buffers": [
        ("rows_loop", (n(size=(3, 2)), n(size=2))),
        ("zip_loss", (n(size=(3, 2)), n(size=3), n(size=2))),
        ("zip_loss", (n(size=(3, 2)), n(size=(3, 1)), n(size=2))),
        ("ternary_rnn", (n(size=(2, 3, 4)), n(size=(2, 4)), n(size=(4, 4)))),
        ("lstm_concat", (n(size=(2, 3)), n(size=(2, 4)), n(size=(2, 4)), n(size=(7, 16)), n(size=16))),
        ("rbf_kernel", (n(size=(3, 2)), n(size=(4, 2)), 1.3)),
        ("rbf_kernel", (n(size=(3, 2)), n(size=(4, 2)), 1)),
        ("ellipsis_pick", (n(size=(2, 3)),)),
        ("ellipsis_pick", (n(size=(2, 2, 3)),)),
        ("accumulate", (n(size=(3, 2)), n(size=2))),
        ("accumulate", (np.array([[1, 2], [3, 4]]), n(size=2))),
        ("slice_add", (n(size=(3, 2)), n(size=(3, 2)))),
        ("slice_add", (n(size=(3, 2)), n(size=2))),
        ("slice_add", (n(size=(3, 2)), 0.5)),
        ("stack_ops", (n(size=3), n(size=3))),
        ("flat", (n(size=(2, 3)),)),
        ("flat", (n(size=4),)),
        ("early_return", (2.0,)),
        ("early_return", (-2.0,)),
        ("early_return", (2,)),
        ("early_return", (np.array(2.0),)),
        ("pairwise_dist", (n(size=(3, 2)),)),
        ("ternary_view_rnn", (n(size=(2, 3, 4)), n(size=(2, 5)), n(size=(4, 5)), n(size=(5, 5)), n(size=5))),
        ("ternary_view_scan", (n(size=(4, 3)), n(size=3), n(size=3))),
        ("ternary_view_scan", (n(size=4), 0.3, 0.7)),
        ("ternary_view_scan", (n(size=(4, 2)), n(size=2), 0.7)),
        ("nested_appends", (n(size=3), n(size=2))),
        ("nested_appends", ([0.3, -0.2], [1.0, 2.0, 0.5])),
    ],
    "choices": [
        ("penalty", ([1, 2, -1], 1)),
        ("penalty", ([1, 2, -1], -1)),
        ("penalty", (n(size=4), 0.5)),
        ("squares_or_first", ([0.5, 2.0], 1)),
        ("squares_or_first", (n(size=3), -1)),
        ("squares_or_first", (np.array([1, 2, 3]), 2)),
        ("doubled_or_first", (np.abs(n(size=3)),)),
        ("doubled_or_first", ([-1.5, 2.0],)),
        ("doubled_or_first", ([1, 2],)),
        ("outer_rows", (n(size=3),)),
        ("outer_rows", (np.array([1, 2, 3]),)),
        ("weighted_rows", (n(size=(3, 4)), n(size=3))),
        ("weighted_rows", (n(size=(3, 4)), [1, 2, 3])),
        ("weighted_rows", (np.array([[1, 2], [3, -1]]), [0.5, 2.0])),
    ],
    "iterables": [
        ("horner", ([1, 2, 3], 2)),
        ("horner", ([1.0, -2.0, 0.5], 0.7)),
        ("horner", (n(size=3), n(size=2))),
        ("horner", (n(size=(3, 2)), n(size=2))),
        ("horner_reversed", ([1, 2, 3], 2)),
        ("horner_reversed", (n(size=4), 0.3)),
        ("tail_energy", (n(size=(3, 2)),)),
        ("tail_energy", (n(size=4),)),
        ("column_norms", (n(size=(3, 2)),)),
        ("column_norms", (np.array([[1, 2], [3, 4]]),)),
        ("backward_scan", (n(size=(3, 2)), n(size=2))),
        ("backward_scan", ([0.5, -1.0, 2], 0.1)),
        ("backward_scan", (n(size=3), 1)),
        ("poly", ([1, 2, 3], 2)),
        ("poly", (n(size=3), n(size=4))),
        ("poly", ([0.5, -1.5], 1.5)),
        ("tail_of_a_list", ([1, 2, 3],)),
        ("tail_of_a_list", ([0.5, -2.0, 1.5, 3.0],)),
    ],
}


CASES = [(module, name, args) for module, calls in CALLS.items() for name, args in calls]


def _case_id(module: str, name: str, args: tuple[Any, ...]) -> str:
    def kind(a: Any) -> str:
        if isinstance(a, list):
            return f"list{len(a)}"
        if isinstance(a, dict):
            return "dict"
        if isinstance(a, np.ndarray):
            return f"{a.dtype.kind}{'x'.join(map(str, a.shape)) or '0d'}"
        return type(a).__name__

    return f"{module}.{name}({','.join(map(kind, args))})"


@pytest.fixture(autouse=True)
def _generate_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each module is generated once per style and mode, not once per call."""
    monkeypatch.setattr(codegen, "generate", _cached_generate)
    yield


_real_generate = codegen.generate


@functools.cache
def _cached_generate_key(source: str, options: tuple[tuple[str, Any], ...]) -> str:
    return _real_generate(source, **dict(options))


def _cached_generate(source: str, **options: Any) -> str:
    return _cached_generate_key(source, tuple(sorted(options.items())))


def source_of(module: str) -> str:
    return (USERS / f"{module}.py").read_text()


@pytest.mark.parametrize("module", list(CALLS))
def test_module_generates_in_every_style(module: str) -> None:
    source = source_of(module)
    styles: list[dict[str, Any]] = [{}, {"style": "split"}, {"mode": "forward"}]
    for options in styles:
        assert "def " in codegen.generate(source, filename="fwd.py", **options)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("module", "name", "args"), CASES, ids=[_case_id(*c) for c in CASES])
def test_call(module: str, name: str, args: tuple[Any, ...]) -> None:
    source = source_of(module)
    forward, backward, code = load(source)
    fn, bw = forward[name], backward[f"{name}_backward"]
    try:
        check_gradients(fn, bw, list(args))
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- generated\n{code}") from None
    check_split_style(source, name, fn, bw, list(args))
    check_forward_mode(source, name, fn, bw, list(args))


# (construct, source, the message's expected position and text)
REFUSED = [
    # A tuple beside a value is a cache, returned undifferentiated; alone it is refused.
    ("return-only-a-tuple", "def f(x, w):\n    out = x @ w\n    cache = (out, w)\n    return cache\n",
     r"4:12: .*returning only a tuple is not supported: return its values"),
    ("return-a-list-beside-a-value", "def f(x, w):\n    out = x @ w\n    cache = [x, w]\n    return out, cache\n",
     r"4:17: .*returning a list is not supported"),
    ("inlined-helper-updating-its-argument",
     ("import numpy as np\n\ndef _clip(x):\n    x[x > 1.0] = 1.0\n    return x\n\n"
      "def f(x):\n    y = x * 3.0\n    return np.sum(_clip(y) ** 2)\n"),
     r"4:5: .*x is updated in place, and x, the caller's"),
    ("max-of-one-iterable", "def f(v):\n    return max(v)\n", r"2:12: .*max\(v\) of a whole list or array is not supported: write np.max\(v\)"),
    # `prev = h[t - 1] if t > 0 else h0` above `h[t] = ...` is differentiated
    # (ternary_view_rnn); a view read after the update that changes it is not.
    ("buffer-view-read-after-its-update",
     ("import numpy as np\n\ndef f(x, h0):\n    h = np.zeros(x.shape)\n    for t in range(1, x.shape[0]):\n"
      "        prev = h[t - 1] if t > 1 else h0\n        h[t - 1] = h[t - 1] + x[t]\n        h[t] = np.tanh(prev)\n"
      "    return h\n"),
     r"7:9: .*h is updated in place, and prev, read later"),
    # the inner loop comes back to the read without passing the binding above it
    ("buffer-view-read-around-an-inner-loop",
     ("import numpy as np\n\ndef f(x):\n    h = x * 1.0\n    z = 0.0\n    for i in range(2):\n"
      "        prev = h[i] if i > 0 else h[0]\n        for j in range(2):\n            z = z + prev * x[j]\n"
      "            h[i] = h[i] + 1.0\n    return z\n"),
     r"10:13: .*h is updated in place, and prev, read later"),
    ("buffer-view-read-around-the-loop",
     ("import numpy as np\n\ndef f(x, h0):\n    h = np.zeros(x.shape)\n    y = h0\n    prev = h0\n"
      "    for t in range(x.shape[0]):\n        y = y * prev\n        prev = h[0] if t > 0 else h0\n"
      "        h[0] = h[0] + x[t]\n    return y\n"),
     r"10:9: .*h is updated in place, and prev, read later"),
    # A refusal in a function that also sums a generator: the summed loop is located at
    # the generator (it had no position, and the refusal crashed with an AttributeError).
    ("refusal-beside-summed-generator",
     "import numpy as np\n\ndef f(v):\n    m = np.median(v)\n    return sum(x * m for x in v)\n",
     r"4:9: .*no derivative rule for np.median"),
    ("split-kept-whole", "import numpy as np\n\ndef f(a):\n    parts = np.split(a, 2)\n    return np.sum(parts[0] * parts[1])\n",
     r"4:13: .*np.split returns a list of arrays: unpack it \(a, b = np.split\(x, 2\)\)"),
    ("split-count", "import numpy as np\n\ndef f(a):\n    b, c = np.split(a, 3)\n    return np.sum(b * c)\n",
     r"4:12: .*np.split gives 3 parts here: unpack them into 3 names"),
    ("split-sections-by-name", "import numpy as np\n\ndef f(a, k):\n    b, c = np.split(a, k)\n    return np.sum(b * c)\n",
     r"4:12: .*np.split: the sections must be a literal int or a literal list of ints"),
    ("trace-axes", "import numpy as np\n\ndef f(a):\n    return np.sum(np.trace(a, axis1=1, axis2=2))\n",
     r"4:19: .*only axis1=0 and axis2=1 are supported"),
]


@pytest.mark.parametrize(("source", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused(source: str, message: str) -> None:
    with pytest.raises(codegen.CodegenError) as info:
        _real_generate(source, filename="fwd.py")
    assert info.value.line >= 1 and info.value.column >= 1
    assert re.search(message, str(info.value)), str(info.value)


SUM_OF_A_LOCAL = "import math\nimport numpy as np\n\n\ndef f(x):\n    a = x * 2.0\n    return sum(a)\n"


# sum(v) of a parameter is Python's loop (scalar_scripts.mean_of); of a local array,
# np.sum(v, axis=0): the items of a vector, the rows of a matrix (tests/test_whole_sums.py)
@pytest.mark.parametrize("x", [R.normal(size=4), R.normal(size=(3, 2)), np.array([1, 2, 3])], ids=["vector", "matrix", "ints"])
def test_sum_of_a_local(x: Any) -> None:
    forward, backward, code = load(SUM_OF_A_LOCAL)
    assert "np.sum(a, axis=0)" in code
    check_gradients(forward["f"], backward["f_backward"], [x])
    check_split_style(SUM_OF_A_LOCAL, "f", forward["f"], backward["f_backward"], [x])
    check_forward_mode(SUM_OF_A_LOCAL, "f", forward["f"], backward["f_backward"], [x])


RELU_COPY = "import numpy as np\n\ndef relu_copy(x):\n    out = x.copy()\n    out[out < 0] = 0\n    return out\n"


@pytest.mark.parametrize("x", [np.array(0.6), np.array(-0.6), np.array([0.6, -0.2])])
def test_split_backward_of_masked_copy_takes_a_float_upstream(x: Any) -> None:
    forward, backward, _ = load(RELU_COPY)
    check_gradients(forward["relu_copy"], backward["relu_copy_backward"], [x])
    check_split_style(RELU_COPY, "relu_copy", forward["relu_copy"], backward["relu_copy_backward"], [x])


def test_a_returned_cache_takes_no_upstream_and_says_so() -> None:
    code = _real_generate(source_of("caches"), filename="fwd.py")
    assert "def affine_forward_backward(x, w, b, dout=1.0):" in code
    assert "Not differentiated, returned as computed: cache (no upstream gradient)." in code
    split = _real_generate(source_of("caches"), filename="fwd.py", style="split")
    assert "def affine_forward_backward(dout, cache):" in split
    # the author's cache is returned as it is, beside the split style's own
    assert "return out, cache, (" in split
