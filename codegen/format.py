"""Format generated code with black, honouring the user's line length and targets."""

from __future__ import annotations

from collections.abc import Sequence

import black


def format_code(code: str, *, line_length: int = 88, target_versions: Sequence[str] = ()) -> str:
    versions = {black.TargetVersion[v.upper()] for v in target_versions}
    mode = black.Mode(target_versions=versions, line_length=line_length)
    return black.format_str(code, mode=mode)
