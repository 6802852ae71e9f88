"""The package's shape: no import cycle in ``ltr/`` (counting imports inside functions), no module reaching into
another module's private names, and ``ltr`` never importing ``features`` outside the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LTR = ROOT / "ltr"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in LTR.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, module: str, known: dict[str, Path]) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import executed at run time, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, str | None, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.extend((a.name, None, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for a in child.names:
                    sub = f"{base}.{a.name}"
                    # `from ltr.evaluation import plots` imports the sub-module plots
                    out.append((sub, None, child.lineno) if sub in known else (base, a.name, child.lineno))
            visit(child)

    visit(tree)
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for m, path in known.items():
        for target, _, _ in _imports(path, m, known):
            # importing a.b.c runs a/__init__ and a/b/__init__ too
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in known and prefix != m and not m.startswith(prefix + "."):
                    graph[m].add(prefix)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_ltr_has_no_import_cycle_even_through_imports_inside_functions():
    cycles = _cycles(_graph())
    assert cycles == [], f"import cycles in ltr/: {cycles}"


def test_no_module_imports_another_modules_private_names():
    known = _modules()
    bad = []
    for m, path in known.items():
        for target, name, line in _imports(path, m, known):
            if not target.startswith("ltr"):
                continue
            if name is not None and name.startswith("_") and not name.startswith("__") and target != m:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}.{name}")
            # a private module (ltr.pkg._mod) belongs to its package
            parts = target.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:i])
                    if not (m == owner or m.startswith(owner + ".")):
                        bad.append(f"{path.relative_to(ROOT)}:{line} imports private module {target}")
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("path", sorted(LTR.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_ltr_library_modules_never_import_features(path):
    if "cli" in path.relative_to(LTR).parts or path == LTR / "serve.py":
        return  # the command line and the ltr.serve facade (lazy, over features.serve) compose both layers
    known = _modules()
    m = _module_name(path)
    hits = [f"line {line}" for target, _, line in _imports(path, m, known) if target.split(".")[0] == "features"]
    assert hits == [], f"{path.relative_to(ROOT)} imports features ({', '.join(hits)})"


def test_a_missing_reference_implementation_fails_under_require_shared(monkeypatch):
    from ltr._shared import import_reference

    monkeypatch.setenv("LTRKIT_REQUIRE_SHARED", "1")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        import_reference("no_such_reference_module_xyz")
    monkeypatch.setenv("LTRKIT_REQUIRE_SHARED", "0")
    with pytest.raises(pytest.skip.Exception):
        import_reference("no_such_reference_module_xyz")


def test_tests_import_optional_dependencies_through_ltr_shared():
    """A reference implementation or a dev/neural dependency that is missing must fail CI (LTRKIT_REQUIRE_SHARED /
    LTRKIT_REQUIRE_NEURAL), not skip quietly: tests import them with ``ltr._shared.import_reference`` or
    ``import_neural``, never ``pytest.importorskip``."""
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "tests").glob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if "importorskip(" in line and p.name != "test_architecture.py"]
    assert hits == [], f"pytest.importorskip in {hits}"


def test_the_command_line_starts_without_numpy_so_an_early_ctrl_c_is_caught():
    """`ltr` imports ltr.cli before main() can catch KeyboardInterrupt: that import must stay light (NumPy, SciPy and
    the engines load inside main), else a Ctrl-C in the first half second printed a traceback."""
    import subprocess
    import sys

    code = "import sys, ltr.cli; print(sorted(m for m in ('numpy', 'scipy', 'pandas', 'lightgbm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_submodule_is_an_attribute_of_ltr_after_a_plain_import():
    """The README's `ltr.datasets.load(...)`, `ltr.fusion`, `ltr.trees.load(...)` after `import ltr` alone: each
    loaded on first use (it raised AttributeError unless something had imported it before)."""
    import subprocess
    import sys

    import ltr

    public = sorted(p.stem if p.suffix == ".py" else p.name for p in ROOT.joinpath("ltr").iterdir()
                    if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())
                    and p.name not in ("cli", "py.typed"))
    assert public == sorted(ltr._SUBMODULES)
    code = ("import sys, ltr; light = 'numpy' not in sys.modules; "
            f"mods = [getattr(ltr, m).__name__ for m in {public!r}]; print(light, len(mods))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", str(len(public))]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ltr.nope  # noqa: B018


def test_every_public_module_of_ltr_rankers_is_an_attribute_after_a_plain_import():
    """The README's `help(ltr.rankers.linear)` after `import ltr` (it raised AttributeError)."""
    import subprocess
    import sys

    import ltr.rankers

    public = sorted(p.stem for p in ROOT.joinpath("ltr", "rankers").glob("*.py") if not p.name.startswith("_"))
    assert public == sorted(ltr.rankers._SUBMODULES)
    code = f"import ltr; print([getattr(ltr.rankers, m).__name__ for m in {public!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str([f"ltr.rankers.{m}" for m in public])
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ltr.rankers.nope  # noqa: B018
