"""The optional compiled build (setup.py, CONNECTOR_COMPILE=1) and the image that uses it: the modules it
compiles exist, and the image's build stage compiles them from everything the build needs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _compiled_modules() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if isinstance(target, ast.Name) and target.id == "COMPILED_MODULES":
                return list(ast.literal_eval(node.value))  # type: ignore[arg-type]
    raise AssertionError("setup.py no longer names COMPILED_MODULES")


def test_every_compiled_module_exists_and_is_part_of_the_core() -> None:
    modules = _compiled_modules()
    assert modules, "setup.py compiles nothing"
    for path in modules:
        assert (ROOT / path).is_file(), f"setup.py compiles {path}, which does not exist"
        assert path.startswith(("connector/reconcile/", "connector/score/")), \
            f"{path}: only the pure cores (reconciliation, scoring) are compiled"


def test_the_image_build_stage_compiles_the_core() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2, "expected a build stage and the runtime stage"
    build, runtime = stages
    assert "AS build" in build.splitlines()[0]
    assert "COPY pyproject.toml setup.py README.md ./" in build and "COPY connector ./connector" in build
    assert re.search(r"CONNECTOR_COMPILE=1 pip wheel .*--no-deps", build)
    assert "COPY --from=build /wheels /wheels" in runtime and "pip install --no-cache-dir /wheels/*.whl" in runtime
