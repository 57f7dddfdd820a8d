"""Build hook for the optional compiled cores; everything else is in pyproject.toml.

With ``CONNECTOR_COMPILE=1`` the hot modules of the reconciliation core and of the scoring core are
compiled with Cython (in pure-Python mode: the same .py files, no Cython syntax), which cuts
reconciliation's instructions by about 30% and lifts scoring's people/s by about 50%
(docs/benchmarks.md). The container image is built this way. Without it (the default, and what an
editable development install should use, so that edited sources take effect) the package is pure
Python. Both builds produce identical results; CI runs the reconciliation and scoring tests against each.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

#: the modules that dominate reconciliation time (identity, field resolution, planning) and scoring time
COMPILED_MODULES = [
    "connector/reconcile/records.py",
    "connector/reconcile/identity.py",
    "connector/reconcile/resolve.py",
    "connector/reconcile/plan.py",
    "connector/reconcile/engine.py",
    "connector/reconcile/transforms.py",
    # lead scoring's pure core (issue #16): one person's score, status, outputs and decision
    "connector/score/model.py",
    "connector/score/scorer.py",
    "connector/score/status.py",
    "connector/score/signals.py",
    "connector/score/outputs.py",
    "connector/score/decide.py",
]


def _extensions() -> list[Extension]:
    if os.environ.get("CONNECTOR_COMPILE", "") != "1":
        return []
    from Cython.Build import cythonize  # a build requirement (pyproject.toml)

    return cythonize(
        COMPILED_MODULES,
        # annotations stay hints (as in CPython), never enforced C types: behaviour is unchanged
        compiler_directives={"language_level": 3, "annotation_typing": False},
        nthreads=os.cpu_count() or 1,
        quiet=True,
    )


setup(ext_modules=_extensions())
