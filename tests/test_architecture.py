"""The layers, read from the source: members at the bottom, the ground floor under everything.

- `liaison/admin.py`, `cache.py`, `forms.py`, `health.py`, `jobs.py`, `paths.py`, `selectors.py`,
  `services.py` (the ground floor) import no app at module level, so any app may build on them;
- `members` (organisations, people, scoping) imports nothing from pairings, visits or
  reports, not even inside a function: the apps above it ask it, never the other way;
- no `views.py` imports another app's views: shared reads are selectors.
"""

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("members", "pairings", "visits", "reports")
GROUND_FLOOR = (
    "liaison/admin.py",
    "liaison/cache.py",
    "liaison/context_processors.py",
    "liaison/forms.py",
    "liaison/health.py",
    "liaison/jobs.py",
    "liaison/paths.py",
    "liaison/selectors.py",
    "liaison/services.py",
)


def _modules(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def _imported(node: ast.AST, module: Path) -> list[str]:
    """The absolute names an import statement imports (relative imports resolved against `module`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.relative_to(ROOT).parent.parts
            base = ".".join(package[: len(package) - node.level + 1])
            name = f"{base}.{node.module}" if node.module else base
        else:
            name = node.module or ""
        return [name] + [f"{name}.{alias.name}" for alias in node.names]
    return []


def _all_imports(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return [name for node in ast.walk(tree) for name in _imported(node, module)]


def _top_level_imports(module: Path) -> list[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return [name for node in tree.body for name in _imported(node, module)]


def _is_in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


@pytest.mark.parametrize("module", _modules("members"), ids=lambda path: str(path.relative_to(ROOT)))
def test_members_imports_nothing_from_the_apps_above_it(module):
    upward = [name for name in _all_imports(module) if _is_in(name, ("pairings", "visits", "reports"))]
    assert upward == [], f"{module.relative_to(ROOT)} imports {upward}"


@pytest.mark.parametrize("path", GROUND_FLOOR)
def test_the_ground_floor_imports_no_app_at_module_level(path):
    apps = (*APPS, "liaison.demo")
    found = [name for name in _top_level_imports(ROOT / path) if _is_in(name, apps)]
    assert found == [], f"{path} imports {found} at module level"


def test_no_views_module_imports_another_apps_views():
    offenders = []
    for package in (*APPS, "liaison"):
        for module in _modules(package):
            if not module.name.endswith("views.py"):
                continue
            app = module.relative_to(ROOT).parts[0]
            for name in _all_imports(module):
                parts = name.split(".")
                ours = parts[0] in (*APPS, "liaison")
                if ours and parts[0] != app and any(part.endswith("views") for part in parts[1:]):
                    offenders.append(f"{module.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_the_architecture_checks_see_an_upward_import():
    # The checks read the source: make sure a lazy upward import would be caught.
    module = ROOT / "members" / "selectors.py"
    assert "pairings.selectors" in _imported(ast.parse("from pairings.selectors import x").body[0], module)
    lazy = ast.parse("def f():\n    from visits.models import Notification\n")
    assert any(_is_in(name, ("visits",)) for node in ast.walk(lazy) for name in _imported(node, module))
    assert _imported(ast.parse("from . import selectors").body[0], module)[0] == "members"


def test_every_rule_in_the_table_names_a_real_function():
    """docs/ARCHITECTURE.md maps each rule of DOMAIN.md to one function: each must exist."""
    table = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").split("## Where each rule")[1]
    names = re.findall(r"`((?:liaison|members|pairings|visits|reports)\.[\w.]+)`", table)
    assert len(names) >= 30
    missing = []
    for dotted in names:
        module_name, _, attribute = dotted.rpartition(".")
        target = None
        while module_name:
            try:
                target = importlib.import_module(module_name)
                break
            except ModuleNotFoundError:
                module_name, _, outer = module_name.rpartition(".")
                attribute = f"{outer}.{attribute}"
        for part in attribute.split("."):
            target = getattr(target, part, None)
        if target is None:
            missing.append(dotted)
    assert not missing, missing
