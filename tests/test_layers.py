"""Data flows one way: core <- ingest <- index <- index.engine <- web/ and the CLIs. No import runs back up."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "ingest", "index", "web", "bench", "tests")
ENGINE_API = {"index.engine"}


def imports(path: Path) -> set[str]:
    """Every project module a file imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
        found |= {n for n in names if n.split(".")[0] in PACKAGES}
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_core_imports_nothing_of_the_project_but_itself():
    for path in files("core"):
        assert {m for m in imports(path) if not m.startswith("core")} == set(), path


def test_ingest_turns_files_into_documents_without_the_index_or_the_app():
    for path in files("ingest"):
        if path.name == "__main__.py":
            continue
        assert {m for m in imports(path) if not m.startswith(("core", "ingest"))} == set(), path


def test_search_stages_need_only_the_core_and_the_index():
    for path in files("index"):
        if path.name in ("__main__.py", "engine.py", "build.py"):
            continue   # the public API, the CLI and the index writer read documents from ingest/
        assert {m for m in imports(path) if not m.startswith(("core", "index"))} == set(), path


@pytest.mark.parametrize("path", [*files("web"), ROOT / "app.py", ROOT / "ingest" / "__main__.py",
                                  ROOT / "index" / "__main__.py"], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_app_and_the_clis_use_only_the_public_engine_api(path):
    outside = {m for m in imports(path) if not m.startswith("web")}
    assert outside <= ENGINE_API, f"{path.relative_to(ROOT)} imports {sorted(outside - ENGINE_API)}"
