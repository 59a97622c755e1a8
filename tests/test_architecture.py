"""The dependency rules of docs/architecture.md, checked on every import statement (function
level included): the registry imports only the audit and lineage leaves, the leaves import no
Steward app, and nothing imports portal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("registry", "monitoring", "governance", "portal")
# The read side beside each leaf: it reads the registry, so it is not part of the leaf.
LEAF_READ_SIDE = {
    "governance.audit": ("selectors", "production_at", "api", "views"),
    "governance.lineage": ("selectors", "api", "services"),
    "governance.outbound": (),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in APPS}


def _modules(package: str) -> dict[str, set[str]]:
    base = ROOT.joinpath(*package.split("."))
    return {
        _module_name(path): _imports(path)
        for path in base.rglob("*.py")
        if "migrations" not in path.parts
    }


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _is_leaf(name: str) -> bool:
    for leaf, read_side in LEAF_READ_SIDE.items():
        if _within(name, leaf):
            return not any(_within(name, f"{leaf}.{part}") for part in read_side)
    return False


def test_the_registry_imports_only_the_audit_and_lineage_leaves():
    wrong = {
        module: sorted(
            name
            for name in imported
            if not _within(name, "registry") and not (_is_leaf(name) and "outbound" not in name)
        )
        for module, imported in _modules("registry").items()
    }
    assert {m: names for m, names in wrong.items() if names} == {}


@pytest.mark.parametrize("leaf", sorted(LEAF_READ_SIDE))
def test_the_leaves_import_no_steward_app(leaf):
    wrong = {
        module: sorted(name for name in imported if not _is_leaf(name))
        for module, imported in _modules(leaf).items()
        if _is_leaf(module)
    }
    assert {m: names for m, names in wrong.items() if names} == {}


@pytest.mark.parametrize("app", ["registry", "monitoring", "governance"])
def test_nothing_imports_portal(app):
    wrong = {
        module: sorted(name for name in imported if _within(name, "portal"))
        for module, imported in _modules(app).items()
    }
    assert {m: names for m, names in wrong.items() if names} == {}


def test_no_loose_modules_at_the_governance_root():
    own = {"__init__.py", "admin.py", "apps.py", "urls.py"}
    loose = {p.name for p in (ROOT / "governance").glob("*.py")} - own
    assert loose == set()


def _module_level_imports(path: Path, known: set[str]) -> set[str]:
    """The Steward modules `path` imports when it is loaded: statements at the top level (and in
    top-level try blocks), not inside functions or `if TYPE_CHECKING:`; a name resolves to the
    longest module it starts with, and importing a module loads its packages too (except the
    packages `path` itself sits in, which are loading already)."""
    own = _module_name(path).split(".")
    loading = {".".join(own[:i]) for i in range(1, len(own))}
    tree = ast.parse(path.read_text(), filename=str(path))
    statements: list[ast.stmt] = []
    for node in tree.body:
        statements.extend(node.body if isinstance(node, ast.Try) else [node])
    names: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in known:
                found.update(".".join(parts[:i]) for i in range(1, end + 1))
                break
    return (found - loading) & known


def test_module_level_imports_form_no_cycle():
    """A loop among modules is broken today only by moving an import into a function, which
    hides the dependency; the one-way rule keeps every import at the top (monitoring.jobs)."""
    paths = {
        _module_name(path): path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph = {name: _module_level_imports(path, set(paths)) - {name} for name, path in paths.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert [" -> ".join(cycle) for cycle in cycles] == []
