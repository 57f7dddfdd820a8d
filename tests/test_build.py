"""The optional compiled build (setup.py, CONNECTOR_COMPILE=1) and the image that uses it: the modules it
compiles exist, and the image's build stage compiles them from everything the build needs.

Then the image's own steps, without a container engine: the wheel built from exactly what the build stage
copies carries every file the package needs (the default mappings among them), and installed alone into a
fresh virtual environment (its dependencies borrowed from this one) its `connector` runs from any directory:
`--help`, `validate` with the shipped config, and once the daemon exists, `run` answering the image's
health check against the sandbox."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from connector.cli import cli
from connector.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[1]
#: what a checkout holds that a clean build context would not: caches and in-place compiled cores
_NOT_SOURCES = shutil.ignore_patterns("__pycache__", "*.so", "*.c", "*.egg-info")


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
    # the runtime stage installs the wheel from a bind mount of the build stage: no layer keeps a copy of it
    assert re.search(r"RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \\\s*\n\s*"
                     r"pip install --no-cache-dir /wheels/\*\.whl", runtime), runtime


# ------------------------------------------------------------------------------ the wheel the image installs


def _build_stage_copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY in the image's build stage."""
    build = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.M)[1]
    out = []
    for line in build.splitlines():
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            assert not any(s.startswith("--") for s in sources), line
            out.append((sources, dest))
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the build stage makes, from a context holding only what its COPY lines copy (a pure-Python
    build: CI compiles and tests the cores separately, and compiling here would take minutes)."""
    context, wheels = tmp_path_factory.mktemp("context"), tmp_path_factory.mktemp("wheels")
    for sources, dest in _build_stage_copies():
        for source in sources:
            target = context / dest / source if dest.endswith("/") else context / dest
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=_NOT_SOURCES)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                           str(context)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = wheels.glob("*.whl")
    return built


def test_the_wheel_carries_every_file_of_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"connector/mappings/{n}.toml" for n in ("contacts", "opportunities", "scoring")} <= names
    for path in (ROOT / "connector").rglob("*"):
        relative = path.relative_to(ROOT)
        if path.is_dir() or any(_NOT_SOURCES("", [part]) for part in relative.parts):
            continue  # not in a build context
        assert relative.as_posix() in names, f"{relative} is not in the wheel: add it to package-data"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "connector = connector.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed alone (`--no-deps`, as its dependencies come from
    this environment through a path file: not a site directory, so this checkout's editable install of the
    connector stays out). Returns its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return venv / "bin"


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No variable of this shell that the connector reads: only what the test gives."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1", **extra}


def test_the_installed_wheel_runs_from_anywhere_with_its_own_mappings(installed: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    where = subprocess.run([str(installed / "python"), "-c", "import connector; print(connector.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(installed.parent)), f"the checkout's connector was imported: {where}"
    done = subprocess.run([str(installed / "connector"), "--help"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "run" in done.stdout and "validate" in done.stdout, done.stderr
    secret = tmp_path / "secret"
    secret.write_text("not-a-real-secret")
    config = tmp_path / "etc" / "connector.toml"
    config.parent.mkdir()
    shutil.copy(ROOT / "deploy" / "connector.toml", config)
    env.update(CONNECTOR_CONFIG=str(config), CONNECTOR_STORE_URL=f"sqlite:///{tmp_path}/c.db",
               CONNECTOR_SALESFORCE_CLIENT_ID="3MVG9-id", CONNECTOR_HUBSPOT_ACCESS_TOKEN_FILE=str(secret),
               CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE=str(secret), CONNECTOR_DAEMON_TOKEN_FILE=str(secret))
    done = subprocess.run([str(installed / "connector"), "validate", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    mappings = Path(json.loads(done.stdout)["mappings"])
    assert mappings.is_relative_to(installed.parent) and (mappings / "contacts.toml").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthcheck(port: int) -> list[str]:
    """The image's HEALTHCHECK command, aimed at `port` instead of 8080."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (args,) = re.findall(r"^HEALTHCHECK .*? CMD (\[.+\])$", text, flags=re.M)
    command = list(json.loads(args))
    return [sys.executable, *[c.replace(":8080/", f":{port}/") for c in command[1:]]]


@pytest.mark.slow
def test_the_installed_daemon_answers_the_image_health_check_and_stops_on_sigterm(
        installed: Path, tmp_path: Path) -> None:
    """What the container does: `connector run` with the shipped config, secrets as files, against the sandbox;
    the image's HEALTHCHECK passes once it serves, and SIGTERM ends it with exit code 0."""
    if "not built yet" in (cli.commands["run"].help or ""):
        pytest.skip("`connector run` is not built yet (issue #18)")
    port = _free_port()
    with Sandbox(people=20, rate_limits=False, search_lag_ms=0, bulk_jobs="instant") as sandbox:
        info = sandbox.info()
        secrets = {"hubspot": info.hubspot_access_token, "salesforce": info.salesforce_client_secret,
                   "daemon": "sentinel-daemon-token"}
        for name, value in secrets.items():
            (tmp_path / name).write_text(value)
        env = _clean_env(
            tmp_path, CONNECTOR_CONFIG=str(ROOT / "deploy" / "connector.toml"),
            CONNECTOR_STORE_URL=f"sqlite:///{tmp_path}/connector.db",
            CONNECTOR_HUBSPOT_BASE_URL=info.hubspot_base_url, CONNECTOR_HUBSPOT_CA_BUNDLE=info.ca_file,
            CONNECTOR_HUBSPOT_ACCESS_TOKEN_FILE=str(tmp_path / "hubspot"),
            CONNECTOR_SALESFORCE_INSTANCE_URL=info.salesforce_instance_url,
            CONNECTOR_SALESFORCE_CA_BUNDLE=info.ca_file, CONNECTOR_SALESFORCE_CLIENT_ID=info.salesforce_client_id,
            CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE=str(tmp_path / "salesforce"),
            CONNECTOR_DAEMON_LISTEN=f"127.0.0.1:{port}", CONNECTOR_DAEMON_TOKEN_FILE=str(tmp_path / "daemon"))
        log = (tmp_path / "daemon.log").open("w")
        daemon = subprocess.Popen([str(installed / "connector"), "run"], cwd=tmp_path, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120  # a safety net: the loop ends when the check passes
            while subprocess.run(_healthcheck(port), capture_output=True, timeout=30).returncode != 0:
                assert daemon.poll() is None, f"the daemon exited: {(tmp_path / 'daemon.log').read_text()}"
                assert time.monotonic() < deadline, "the health check never passed"
                try:
                    daemon.wait(timeout=0.5)  # returns at once if the daemon exits; the assert above says so
                except subprocess.TimeoutExpired:
                    pass
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=60) == 0, (tmp_path / "daemon.log").read_text()
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
            log.close()
    assert "sentinel-daemon-token" not in (tmp_path / "daemon.log").read_text()
