"""codegen: readable, staged backward passes for Python forward functions."""

from codegen.api import backward, generate
from codegen.emit.header import is_generated
from codegen.errors import CodegenError, Problem
from codegen.gradcheck import GradientMismatch, gradcheck

__all__ = ["CodegenError", "GradientMismatch", "Problem", "backward", "generate", "gradcheck", "is_generated"]
__version__ = "0.1.0"
