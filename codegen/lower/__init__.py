"""Stage 3, lower: the forward function as staged, single-assignment statements
(`codegen.ir`), control flow kept, helpers inlined, recognised patterns folded."""
