"""codegen.unparse writes exactly what ast.unparse writes."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from codegen import unparse

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted(
    path
    for folder in ("codegen", "examples", "tests", "benchmarks")
    for path in (ROOT / folder).rglob("*.py")
)
SIMPLE = (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="ast.unparse brackets tuple targets before 3.11; source writes 3.11's text"
)
@pytest.mark.parametrize("path", CORPUS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_expression_and_simple_statement_of_the_repository(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.expr):
            assert unparse.expression(node) == ast.unparse(node)
        elif isinstance(node, SIMPLE):
            assert unparse.statement(node) == ast.unparse(node)


def _expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


NUMBER = ast.Constant(2)
BUILT = [
    ast.UnaryOp(ast.USub(), ast.Constant(-2.5)),
    ast.BinOp(NUMBER, ast.Pow(), ast.Constant(-1)),
    ast.BinOp(ast.Constant(-2), ast.Pow(), ast.Constant(2)),
    ast.Attribute(ast.Constant(-1), "real", ast.Load()),
    ast.Attribute(ast.Constant(True), "real", ast.Load()),
    ast.Constant(float("inf")),
    ast.Constant(float("nan")),
    ast.Constant(complex(0, float("inf"))),
    ast.Constant("quote ' and \" \\ \n"),
    ast.Constant(b"bytes"),
    ast.Constant(None),
    ast.Constant((1, 2)),
    ast.Constant(...),
    ast.BinOp(_expr("a, b"), ast.Add(), _expr("c, d")),
    ast.Subscript(_expr("x"), _expr("(a, b), c"), ast.Load()),
    ast.Subscript(_expr("x"), ast.Tuple([_expr("a")], ast.Load()), ast.Load()),
    ast.Subscript(_expr("x"), ast.Tuple([], ast.Load()), ast.Load()),
    ast.Call(_expr("f"), [_expr("a, b"), ast.Starred(_expr("a or b"), ast.Load())], [ast.keyword(None, _expr("k"))]),
    ast.BoolOp(ast.And(), [_expr("not a"), _expr("not b"), _expr("not c"), _expr("a or b")]),
    ast.BoolOp(ast.Or(), [_expr("a and b"), _expr("c if d else e")]),
    ast.UnaryOp(ast.Not(), _expr("a == b")),
    ast.UnaryOp(ast.USub(), _expr("a ** b")),
    ast.BinOp(_expr("a ** b"), ast.Pow(), _expr("c ** d")),
    ast.Compare(_expr("a < b"), [ast.Lt()], [_expr("c < d")]),
    ast.IfExp(_expr("a if b else c"), _expr("lambda: 1"), _expr("d if e else f")),
    ast.Attribute(_expr("a + b"), "T", ast.Load()),
    ast.Call(_expr("a.b"), [ast.Slice(None, None, None)], []),
    ast.Subscript(_expr("x"), ast.Slice(_expr("a, b"), None, _expr("c")), ast.Load()),
    ast.List([_expr("a, b"), ast.Starred(_expr("c"), ast.Load())], ast.Load()),
]


@pytest.mark.parametrize("tree", BUILT, ids=ast.dump)
def test_trees_the_parser_does_not_build(tree: ast.expr) -> None:
    assert unparse.expression(tree) == ast.unparse(tree)
    statement = ast.Assign([ast.Name("y", ast.Store())], tree, lineno=0)
    assert unparse.statement(statement) == ast.unparse(statement)
    assert unparse.statement(ast.Expr(tree)) == ast.unparse(ast.Expr(tree))


def test_statements_it_does_not_write_are_left_to_ast_unparse() -> None:
    tree = ast.parse("if a:\n    b = 1\nelse:\n    c: int = 2")
    assert unparse.statement(tree.body[0]) == ast.unparse(tree.body[0])
    typed = ast.Assign([ast.Name("y", ast.Store())], ast.Constant(1), type_comment="int", lineno=0)
    assert unparse.statement(typed) == "y = 1 # type: int"
