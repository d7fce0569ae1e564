"""codegen: readable, staged backward passes for Python forward functions."""

from codegen.api import backward, generate, is_generated
from codegen.errors import CodegenError, Problem

__all__ = ["CodegenError", "Problem", "backward", "generate", "is_generated"]
__version__ = "0.1.0"
