"""Shape rules for the source tree (issue 14).

* Every public function or method with three or more parameters has a numpy-style
  ``Parameters`` section in its docstring.
* No function has more than ``MAX_CODE_LINES`` lines of code (non-blank, non-comment, docstring
  excluded) unless a ``# long: <reason>`` comment sits on the line right above the ``def`` (above
  its decorators, if any), on the signature, or on the first line of the body.

Both tests list every offender. ``find_offenders(exclude=())`` shows the full picture.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

# Paths under src/ the rules skip: a module ("taskorder/x.py") or a package ("taskorder/x/").
# Empty: every module follows both rules. Add an entry only for work in progress, and remove it
# (fixing what the tests then report) once that work has landed.
EXCLUDE: tuple[str, ...] = ()

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "taskorder"
MAX_CODE_LINES = 60
MIN_DOCUMENTED_PARAMS = 3

_PARAMETERS_HEADING = re.compile(r"^\s*Parameters\s*\n\s*-{3,}\s*$", re.MULTILINE)
_LONG_REASON = re.compile(r"#\s*long:\s*\S")
_NON_CODE_TOKENS = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class _Module:
    rel: str  # path relative to src/, with forward slashes
    tree: ast.Module
    lines: list[str]
    code_lines: frozenset[int]  # 1-based numbers of lines that hold code tokens


def _is_excluded(rel: str, exclude: tuple[str, ...]) -> bool:
    return any(rel == entry or (entry.endswith("/") and rel.startswith(entry)) for entry in exclude)


def _code_lines(source: str) -> frozenset[int]:
    rows: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _NON_CODE_TOKENS:
            continue
        rows.update(range(token.start[0], token.end[0] + 1))
    return frozenset(rows)


def _modules(exclude: tuple[str, ...]) -> list[_Module]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if _is_excluded(rel, exclude):
            continue
        source = path.read_text(encoding="utf-8")
        modules.append(
            _Module(rel, ast.parse(source, filename=rel), source.splitlines(), _code_lines(source))
        )
    return modules


def _functions(node: ast.AST, qualname: str, public: bool):
    """Yield ``(qualname, function node, is_public, is_method)`` for every function below ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            name = f"{qualname}.{child.name}"
            yield from _functions(child, name, public and not child.name.startswith("_"))
        elif isinstance(child, FunctionNode):
            name = f"{qualname}.{child.name}"
            is_method = isinstance(node, ast.ClassDef)
            yield name, child, public and not child.name.startswith("_"), is_method
            # Functions nested in a function are never public.
            yield from _functions(child, name, False)
        else:
            yield from _functions(child, qualname, public)


def _module_is_public(rel: str) -> bool:
    return not any(part.startswith("_") for part in Path(rel).with_suffix("").parts)


def _counted_params(func: FunctionNode, is_method: bool) -> list[str]:
    """Named parameters (positional-only, ordinary, keyword-only), minus a leading self/cls."""
    args = func.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    decorators = {getattr(d, "id", getattr(d, "attr", None)) for d in func.decorator_list}
    if is_method and "staticmethod" not in decorators and names and names[0] in {"self", "cls"}:
        names = names[1:]
    return names


def _docstring_lines(func: FunctionNode) -> set[int]:
    first = func.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return set(range(first.lineno, first.end_lineno + 1))
    return set()


def _has_long_reason(module: _Module, func: FunctionNode) -> bool:
    """A ``# long: <reason>`` comment right above the function, on its signature, or on the
    first line of its body (a reason may go on over more comment lines; any of the comment
    lines directly above the ``def`` or its decorators may start it)."""
    top = min([func.lineno, *(d.lineno for d in func.decorator_list)])
    above = []
    row = top - 1
    while row >= 1 and module.lines[row - 1].lstrip().startswith("#"):
        above.append(row)
        row -= 1
    candidates = [*above, *range(func.lineno, func.body[0].lineno + 1)]
    return any(_LONG_REASON.search(module.lines[row - 1]) for row in candidates)


@functools.cache
def find_offenders(exclude: tuple[str, ...] = EXCLUDE) -> dict[str, list[str]]:
    """Return ``{"parameters": [...], "long": [...]}`` offenders outside ``exclude``."""
    missing_params: list[str] = []
    too_long: list[str] = []
    for module in _modules(exclude):
        module_public = _module_is_public(module.rel)
        dotted = module.rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for qualname, func, public, is_method in _functions(module.tree, dotted, True):
            where = f"{qualname} ({module.rel}:{func.lineno})"
            params = _counted_params(func, is_method)
            dunder = func.name.startswith("__") and func.name.endswith("__")
            if module_public and public and not dunder and len(params) >= MIN_DOCUMENTED_PARAMS:
                doc = ast.get_docstring(func) or ""
                if not _PARAMETERS_HEADING.search(doc):
                    missing_params.append(f"{where}: {len(params)} parameters")
            span = set(range(func.lineno, func.end_lineno + 1)) - _docstring_lines(func)
            n_code = len(span & module.code_lines)
            if n_code > MAX_CODE_LINES and not _has_long_reason(module, func):
                too_long.append(f"{where}: {n_code} lines of code")
    return {"parameters": missing_params, "long": too_long}


def _fail_message(offenders: list[str], rule: str) -> str:
    return f"{len(offenders)} function(s) {rule}:\n  " + "\n  ".join(offenders)


def test_public_functions_with_three_or_more_parameters_have_a_parameters_section():
    offenders = find_offenders()["parameters"]
    assert not offenders, _fail_message(
        offenders, "with three or more parameters lack a numpy-style 'Parameters' section"
    )


def test_functions_are_at_most_sixty_lines_of_code_or_say_why():
    offenders = find_offenders()["long"]
    assert not offenders, _fail_message(
        offenders,
        f"have more than {MAX_CODE_LINES} lines of code and no '# long: <reason>' comment",
    )


def test_the_rules_see_what_they_should(tmp_path):
    source = (
        'def f(a, b, *, c):\n    """Doc."""\n    # a comment\n\n    return (a,\n            b)\n'
    )
    module = _Module("taskorder/x.py", ast.parse(source), source.splitlines(), _code_lines(source))
    (func,) = module.tree.body
    assert _counted_params(func, is_method=False) == ["a", "b", "c"]
    span = set(range(func.lineno, func.end_lineno + 1)) - _docstring_lines(func)
    assert sorted(span & module.code_lines) == [1, 5, 6]
    assert not _has_long_reason(module, func)
    marked = "# long: one procedure,\n# read top to bottom\n" + source
    module = _Module("taskorder/x.py", ast.parse(marked), marked.splitlines(), _code_lines(marked))
    assert _has_long_reason(module, module.tree.body[0])
    assert _is_excluded("taskorder/trl/x.py", ("taskorder/trl/",))
    assert not _is_excluded("taskorder/trl.py", ("taskorder/trl/",))
    assert not _module_is_public("taskorder/rewards/_common.py")
