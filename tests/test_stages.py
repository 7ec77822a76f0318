"""Each stage of ``rag/`` is a front door: its ``__init__`` lists what other packages use.

A stage's ``__all__`` names what the rest of the code (``rag/``, ``ui/``, ``app.py``,
``bench/``, ``training/``) imports from its modules, each name documented and defined in the
stage; the names load on first use, so importing one module does not load its stage, let alone
the others.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Every package under rag/ but the shipped model files: the stages (and convert's markup).
STAGES = sorted(
    ".".join(init.parent.relative_to(ROOT).parts)
    for init in (ROOT / "rag").glob("*/**/__init__.py")
    if "models" not in init.parts
)
#: The stages whose ``__init__`` still imports its modules when it is imported.
EAGER = {"rag.convert.markup", "rag.evaluation", "rag.history"}
#: Where the code that uses the stages lives.
CONSUMERS = ["rag", "ui", "bench", "training", "app.py"]


def own_doc(obj: object) -> str:
    """The docstring an object declares itself: not inherited, not a dataclass's signature."""
    if isinstance(obj, type):
        doc = vars(obj).get("__doc__") or ""
        if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
            return ""
        return doc.strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def submodules(package: ModuleType) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(package.__path__)}


def is_code(obj: object) -> bool:
    """A class or function (``lru_cache`` and other wrappers seen through), not data."""
    return inspect.isclass(obj) or inspect.isroutine(inspect.unwrap(obj))


def stage_modules(stage: str) -> list[ModuleType]:
    package = importlib.import_module(stage)
    found = [package]
    for info in pkgutil.walk_packages(package.__path__, f"{stage}."):
        found.append(importlib.import_module(info.name))
    return found


def documented_assignment(module: ModuleType, name: str) -> bool | None:
    """Whether ``module`` assigns ``name`` at top level under a ``#:`` comment (None: not there)."""
    source = inspect.getsource(module)
    lines = source.splitlines()
    for node in ast.parse(source).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            return above.startswith("#:")
    return None


def test_every_stage_has_a_front_door() -> None:
    assert {"rag.text", "rag.convert.markup", "rag.api"} <= set(STAGES)
    for stage in STAGES:
        package = importlib.import_module(stage)
        assert own_doc(package), f"{stage} has no docstring saying what the stage does"
        names = package.__all__
        assert len(names) == len(set(names)), f"{stage}.__all__ lists a name twice"


@pytest.mark.parametrize("stage", STAGES)
def test_every_public_name_resolves_to_a_documented_object_of_its_stage(stage: str) -> None:
    package = importlib.import_module(stage)
    listed = set(dir(package))
    if stage not in EAGER:
        # Importing ``rag.text.words`` makes ``rag.text.words`` the module, whatever __getattr__
        # says; an eager __init__ rebinds the name after importing its module.
        clashes = set(package.__all__) & submodules(package)
        assert not clashes, f"{stage}: {clashes} are also module names; the module would win"
    for name in package.__all__:
        obj = getattr(package, name)
        assert name in listed, f"dir({stage}) does not list {name}"
        assert not inspect.ismodule(obj), f"{stage}.{name} is a module"
        if is_code(obj):
            assert obj.__module__.startswith(f"{stage}.") or obj.__module__ == stage, (
                f"{stage}.{name} is defined in {obj.__module__}, not in the stage"
            )
            assert own_doc(obj), f"{stage}.{name} has no docstring of its own"
            continue
        # Data: a constant the stage assigns, documented by a ``#:`` comment above it.
        homes = [
            (module, documented_assignment(module, name))
            for module in stage_modules(stage)
            if getattr(module, name, None) is obj
        ]
        defined = [(m, doc) for m, doc in homes if doc is not None]
        assert defined, f"{stage}.{name} is not assigned in any module of the stage"
        assert all(doc for _, doc in defined), f"{stage}.{name} has no #: comment above it"


@pytest.mark.parametrize("stage", sorted(set(STAGES) - EAGER))
def test_a_lazy_front_door_offers_only_its_listed_names(stage: str) -> None:
    package = importlib.import_module(stage)
    offered = {n for n in dir(package) if not n.startswith("_")} - submodules(package)
    assert offered == set(package.__all__)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        package.no_such_name  # noqa: B018


def imports_from_outside() -> dict[str, dict[str, set[str]]]:
    """Per stage: each name code outside it imports from its modules, and who imports it."""
    files = [ROOT / "app.py"] + [
        path for folder in CONSUMERS[:-1] for path in sorted((ROOT / folder).rglob("*.py"))
    ]
    found: dict[str, dict[str, set[str]]] = {stage: {} for stage in STAGES}
    for path in files:
        where = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            # The innermost stage the module belongs to (rag.convert.markup before rag.convert).
            owners = [s for s in STAGES if node.module == s or node.module.startswith(f"{s}.")]
            if not owners:
                continue
            stage = max(owners, key=len)
            if where.startswith(f"{stage}."):
                continue  # the stage's own modules
            for alias in node.names:
                found[stage].setdefault(f"{node.module}:{alias.name}", set()).add(where)
    return found


def test_every_name_other_packages_import_is_on_its_stage_front_door() -> None:
    missing = []
    for stage, imports in imports_from_outside().items():
        package = importlib.import_module(stage)
        for imported, users in sorted(imports.items()):
            module_name, name = imported.split(":")
            if module_name in STAGES and name in submodules(importlib.import_module(module_name)):
                continue  # ``from rag.evaluation import report``: a module
            obj = getattr(importlib.import_module(module_name), name)
            if name in submodules(package) and name not in package.__all__:
                continue  # ``rag.text.words.words``: reached through its module, which it names
            home = obj.__module__ if is_code(obj) else stage
            if home != stage and not home.startswith(f"{stage}."):
                continue  # defined elsewhere (rag.errors.SkipFile), re-exported here
            if name not in package.__all__:
                missing.append(f"{stage}: {name} (from {module_name}, used by {sorted(users)})")
    assert not missing, "names other packages import, not on the stage's front door:\n" + (
        "\n".join(missing)
    )


def loaded_after(code: str) -> list[str]:
    """The ``rag`` modules a fresh interpreter has loaded after running ``code``."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{code}; import sys; "
            "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('rag.'))))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.split()


def test_importing_one_module_does_not_load_other_stages() -> None:
    loaded = loaded_after("import rag.text.words")
    assert "rag.text.words" in loaded
    others = [
        m
        for m in loaded
        if m in {"rag.qa", "rag.settings", "rag.catalog"}
        or any(m == s or m.startswith(f"{s}.") for s in STAGES if s != "rag.text")
    ]
    assert not others, f"import rag.text.words also loaded {others}"


def test_importing_a_lazy_front_door_loads_none_of_its_modules() -> None:
    lazy = sorted(set(STAGES) - EAGER)
    loaded = loaded_after("import " + ", ".join(lazy))
    assert set(loaded) <= {*lazy, "rag.results", "rag.types"}, sorted(set(loaded) - set(lazy))
