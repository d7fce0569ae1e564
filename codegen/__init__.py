"""codegen: readable, staged backward passes for Python forward functions."""

from codegen.api import backward, generate
from codegen.errors import CodegenError, Problem
from codegen.gradcheck import GradientMismatch, gradcheck
from codegen.header import is_generated

__all__ = ["CodegenError", "GradientMismatch", "Problem", "backward", "generate", "gradcheck", "is_generated"]
__version__ = "0.1.0"
