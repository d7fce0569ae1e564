"""Stage 5, optimise: clean-up passes over a generated function: algebra, common
subexpressions, gradients written whole instead of accumulated, dead code."""
