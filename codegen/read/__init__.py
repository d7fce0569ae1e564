"""Stage 1, read: parse the forward module (a file, a notebook, a live function), resolve
what each called name means, and refuse what codegen cannot differentiate, with positions."""
