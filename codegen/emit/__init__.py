"""Stage 6, emit: the generated module as text (fused or split style, helpers, imports,
shape asserts, annotations), formatted with black, wrapped and sealed with its header."""
