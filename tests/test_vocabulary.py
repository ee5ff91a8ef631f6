"""One vocabulary: gap reasons and audit actions are spelt only in ``camgrid/vocabulary.py`` (and, for the front end,
only in the types generated from the OpenAPI document). A literal spelt elsewhere drifts: a report that forgets a
reason counts its minutes nowhere, an audit query that misspells an action finds nothing.

The Python check reads every module's syntax tree (docstrings and comments are not literals). The failure lists
every ``file:line`` so that each can be replaced by its ``GapReason``/``AuditAction`` member.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from camgrid.vocabulary import AuditAction, GapReason

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "camgrid"
WEB_SRC = ROOT / "web" / "src"
WORDS = {m.value: f"GapReason.{m.name}" for m in GapReason} | {m.value: f"AuditAction.{m.name}" for m in AuditAction}
# Files that must keep literals, with why. Keep this short.
ALLOWED: dict[str, str] = {
    "vocabulary.py": "where the words are defined",
}
# Permission names (``access/policy.py``) share some words with audit actions ("playback", "export.request"): a
# literal that names a permission is not an action. These calls take a permission as their string argument.
PERMISSION_CALLS = frozenset({"require", "allowed"})
GENERATED_TS = frozenset({"api-types.ts"})


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _permission_literals(tree: ast.AST) -> set[int]:
    """Literals that name a permission: arguments of require()/allowed(), keys of PERMISSIONS, the SCREENS table."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in PERMISSION_CALLS:
                out.update(id(a) for a in node.args)
        elif isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "PERMISSIONS" for t in targets):
                out.update(id(k) for k in node.value.keys if k is not None)
            # access/screens.py: screen -> permission; a screen is named after its permission ("playback").
            if any(isinstance(t, ast.Name) and t.id == "SCREENS" for t in targets):
                out.update(id(k) for k in [*node.value.keys, *node.value.values] if k is not None)
    return out


def python_literals(src: Path = SRC) -> list[str]:
    """``file:line: 'word' (use Member)`` for every gap-reason or audit-action literal outside the vocabulary."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if rel in ALLOWED:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        skip = _docstrings(tree) | _permission_literals(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in WORDS and id(node) not in skip:
                found.append(
                    (rel, node.lineno, f"src/camgrid/{rel}:{node.lineno}: {node.value!r} (use {WORDS[node.value]})")
                )
    return [text for *_, text in sorted(found)]


_TS_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).)*)\1""")
_TS_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def typescript_literals(web_src: Path = WEB_SRC) -> list[str]:
    """Gap-reason string literals in the front end outside the generated types (comments ignored). A table keyed
    by reason is written with bare keys and ``satisfies Record<GapReason, ...>``: the compiler ties it to the
    generated type, so it is not a second spelling."""
    reasons = {m.value for m in GapReason}
    found = []
    for path in sorted(web_src.rglob("*.ts")):
        if path.name in GENERATED_TS:
            continue
        for n, line in enumerate(_TS_COMMENT.sub("", path.read_text()).splitlines(), 1):
            for m in _TS_STRING.finditer(line):
                if m.group(2) in reasons:
                    found.append(f"web/src/{path.relative_to(web_src).as_posix()}:{n}: {m.group(0)}")
    return found


def test_no_gap_reason_or_audit_action_literal_in_python() -> None:
    found = python_literals()
    assert not found, f"{len(found)} literal(s) to replace by camgrid.vocabulary:\n" + "\n".join(found)


def test_no_gap_reason_literal_in_typescript() -> None:
    found = typescript_literals()
    assert not found, "gap reasons spelt outside web/src/api-types.ts (use its GapReason):\n" + "\n".join(found)


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The walkers themselves: a literal is found, a docstring, a comment and a permission are not."""
    pkg = tmp_path / "py"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        '"""unreachable"""\n'
        "# 'stalled'\n"
        "x = require('playback')\n"
        "PERMISSIONS = {'snapshot': 1}\n"
        "def f():\n    '''disk_full'''\n    return 'disk_full', 'login.failed'\n"
    )
    assert python_literals(pkg) == [
        "src/camgrid/m.py:7: 'disk_full' (use GapReason.DISK_FULL)",
        "src/camgrid/m.py:7: 'login.failed' (use AuditAction.LOGIN_FAILED)",
    ]
    web = tmp_path / "web"
    web.mkdir()
    (web / "a.ts").write_text('// "stalled"\nconst a = { stalled: 1 };\nconst b = "stalled";\n')
    (web / "api-types.ts").write_text('type R = "stalled";\n')
    assert typescript_literals(web) == ['web/src/a.ts:3: "stalled"']
