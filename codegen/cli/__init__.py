"""The `codegen` command around the pipeline: configuration, finding files, writing outputs."""
