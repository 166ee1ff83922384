"""The layout rules of DESIGN.md, kept by walking the code (ast), never by a list of sites.

- A feature (every package of shopmail/ but the shared layers core, web, models, mail) imports
  only the shared layers, itself, `shopmail.extensions` and `shopmail.config`; the shared layers
  import no feature; `mail` imports nothing from Flask nor the models.
- No import cycles. Only module-level imports count here (not those inside a function, nor
  under `if TYPE_CHECKING`): a function-level import runs when it is called, once both modules
  are loaded, so it cannot make an import-time cycle. Function-level imports DO count for
  every other rule — a deferred import of another feature is still a dependency on it.
- Nothing imports a view module (`views.py`, `*_views.py`) but the app factory.
- Only `shopmail.core.dispatch` enqueues (no `rq`, no `Queue`, no `.enqueue(`), and nothing
  enqueues before the commit: the immediate `dispatch_sending` is called nowhere in the app.
- `session.commit()` only inside a function marked `@commits(reason)`
  (shopmail/core/boundary.py) — the request, the job, the CLI command and the send loop —
  never in a feature package (no view, no service commits).
- Nothing is registered at import time: no module-level assignment into another module's
  attribute or item, and blueprints are registered only by the app factory.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shopmail"
SHARED = ("core", "web", "models", "mail")  # the layers under the features (DESIGN.md)
ALSO_ALLOWED = ("shopmail.extensions", "shopmail.config")
FACTORY = "shopmail"  # shopmail/__init__.py: create_app
DISPATCH = "shopmail.core.dispatch"
ENQUEUE_CALLS = {"enqueue", "enqueue_call", "enqueue_at", "enqueue_in", "enqueue_many"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(include_scripts: bool = False) -> dict[str, ast.Module]:
    paths = sorted(PACKAGE.rglob("*.py"))
    if include_scripts:  # app.py, worker.py: the entry points beside the package
        paths += sorted(ROOT.glob("*.py"))
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in paths}


MODULES = sources()
ALL = sources(include_scripts=True)
FEATURES = sorted(
    p.name
    for p in PACKAGE.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in SHARED
)


def is_view(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "views" or last.endswith("_views")


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "shopmail" and parts[1] in FEATURES else None


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "shopmail" and parts[1] in SHARED else None


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int
    module_level: bool


def _resolve(base: str, name: str) -> str:
    """`from base import name`: the submodule when there is one, else the module itself."""
    candidate = f"{base}.{name}"
    return candidate if candidate in ALL else base


def _type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(module: str, tree: ast.Module) -> Iterator[Import]:
    package = module if _is_package(module) else module.rpartition(".")[0]

    def walk(node: ast.AST, top: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, alias.name, child.lineno, top)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    yield Import(module, _resolve(base, alias.name), child.lineno, top)
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner)

    yield from walk(tree, True)


def _is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").exists()


IMPORTS = [i for module, tree in ALL.items() for i in imports_of(module, tree)]
OURS = [i for i in IMPORTS if i.target == "shopmail" or i.target.startswith("shopmail.")]


def where(i: Import) -> str:
    return f"{i.importer}:{i.line} imports {i.target}"


def test_the_features_are_found_by_listing_the_packages():
    assert {"automatic", "broadcasts", "stores"} <= set(FEATURES)
    assert not set(FEATURES) & set(SHARED)


def test_a_feature_imports_only_the_shared_layers_and_itself():
    wrong = []
    for i in OURS:
        own = feature_of(i.importer)
        if own is None:
            continue
        allowed = (
            layer_of(i.target) is not None
            or feature_of(i.target) == own
            or i.target in ALSO_ALLOWED
        )
        if not allowed:
            wrong.append(where(i))
    assert wrong == []


def test_the_shared_layers_import_no_feature():
    app_level = {  # jobs, cli, desk, demo: the app above the features
        m for m in ALL if m.count(".") == 1 and layer_of(m) is None and feature_of(m) is None
    }
    app_level -= set(ALSO_ALLOWED)
    wrong = [
        where(i)
        for i in OURS
        if layer_of(i.importer) is not None
        and (feature_of(i.target) is not None or i.target in app_level or i.target == FACTORY)
    ]
    assert wrong == []


def test_mail_imports_nothing_from_flask_nor_the_models():
    wrong = [
        where(i)
        for i in IMPORTS
        if layer_of(i.importer) == "mail"
        and (
            i.target.split(".")[0] in ("flask", "werkzeug")
            or i.target.startswith("flask_")
            or i.target.startswith("shopmail.models")
            or i.target in ("shopmail.extensions", FACTORY)
        )
    ]
    assert wrong == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules():
    edges: dict[str, set[str]] = {}
    for i in OURS:
        if i.module_level and i.target in ALL and i.target != i.importer.rpartition(".")[0]:
            edges.setdefault(i.importer, set()).add(i.target)
    assert cycles(edges) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_imports_a_view_but_the_app_factory():
    views = {m for m in MODULES if is_view(m)}
    assert views, "no view module found"
    wrong = [where(i) for i in IMPORTS if i.target in views and i.importer != FACTORY]
    assert wrong == []


def _dotted(node: ast.AST) -> str:
    return ast.unparse(node)


def test_only_dispatch_talks_to_rq():
    wrong = []
    for module, tree in ALL.items():
        if module == DISPATCH:
            continue
        for i in imports_of(module, tree):
            if i.target == "rq" or i.target.startswith("rq."):
                wrong.append(where(i))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "Queue":
                wrong.append(f"{module}:{node.lineno} uses Queue")
            if isinstance(node, ast.Attribute) and node.attr == "Queue":
                wrong.append(f"{module}:{node.lineno} uses {_dotted(node)}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr.lstrip("_") in ENQUEUE_CALLS
            ):
                wrong.append(f"{module}:{node.lineno} calls {_dotted(node.func)}(")
    assert wrong == []


def test_nothing_in_the_app_enqueues_before_its_commit():
    # `dispatch_sending` enqueues at once (for rows already committed: the after-commit hook,
    # tests). The app asks with `send_soon` / `enqueue_after_commit` instead.
    wrong = [
        f"{module}:{node.lineno} calls {node.attr}"
        for module, tree in ALL.items()
        if module != DISPATCH
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute | ast.Name)
        and getattr(node, "attr", getattr(node, "id", "")) in ("dispatch_sending", "_enqueue")
    ]
    assert wrong == []


def _marked(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "commits":
            return True
    return False


def _session_commits(tree: ast.Module) -> Iterator[tuple[ast.Attribute, bool]]:
    """Every `<…>session.commit` (called or handed on), and whether a marked function holds it."""

    def walk(node: ast.AST, marked: bool) -> Iterator[tuple[ast.Attribute, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = marked
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = marked or _marked(child)
            if (
                isinstance(child, ast.Attribute)
                and child.attr == "commit"
                and _dotted(child.value).split(".")[-1].split("(")[0] in ("session", "Session")
            ):
                yield child, inner
            yield from walk(child, inner)

    yield from walk(tree, False)


def test_only_a_marked_boundary_commits():
    wrong = [
        f"{module}:{node.lineno} {_dotted(node)}()"
        for module, tree in ALL.items()
        for node, marked in _session_commits(tree)
        if not marked
    ]
    assert wrong == []


def test_no_view_and_no_service_is_a_boundary():
    boundaries = [
        (module, node.name)
        for module, tree in ALL.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _marked(node)
    ]
    named = {name for _, name in boundaries}
    # The boundaries DESIGN.md names are all marked: request, job, CLI, send loop.
    assert {"end_transaction", "_execute", "_next_chunk", "record"} <= named
    assert [b for b in boundaries if feature_of(b[0]) or is_view(b[0])] == []


def _imported_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _import_time_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported: all but function bodies."""

    def walk(node: ast.AST) -> Iterator[ast.stmt]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.stmt):
                yield child
            yield from walk(child)

    yield from walk(tree)


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def test_no_module_writes_into_another_module_at_import_time():
    wrong = []
    for module, tree in ALL.items():
        imported = _imported_names(tree)
        for stmt in _import_time_statements(tree):
            targets: list[ast.AST] = []
            if isinstance(stmt, ast.Assign):
                targets = stmt.targets
            elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
                targets = [stmt.target]
            elif isinstance(stmt, ast.Delete):
                targets = stmt.targets
            elif (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and _dotted(stmt.value.func) in ("setattr", "delattr")
                and stmt.value.args
            ):
                targets = [ast.Attribute(value=stmt.value.args[0], attr="?")]
            for target in targets:
                if isinstance(target, ast.Attribute | ast.Subscript) and _root(target) in imported:
                    wrong.append(f"{module}:{stmt.lineno} {ast.unparse(stmt)[:80]}")
    assert wrong == []


def test_blueprints_are_registered_only_by_the_app_factory():
    wrong = []
    for module, tree in ALL.items():
        factory = next(
            (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "create_app"),
            None,
        )
        allowed = set(ast.walk(factory)) if module == FACTORY and factory else set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "register_blueprint"
                and node not in allowed
            ):
                wrong.append(f"{module}:{node.lineno} {_dotted(node.func)}")
    assert wrong == []


@pytest.fixture(scope="module")
def app():
    from shopmail import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_every_view_module_defines_bp_and_the_factory_registers_exactly_those(app):
    views = sorted(m for m in MODULES if is_view(m))
    blueprints = {importlib.import_module(m).bp.name for m in views}
    assert len(blueprints) == len(views)
    assert set(app.blueprints) == blueprints
