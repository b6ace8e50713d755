"""The docker-compose deployment, checked without Docker: parsing, pinning, health, wiring, secrets."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from newsdrift.airflow.common import HTTP_POOL
from newsdrift.settings import PROJECT_ROOT

BASE = PROJECT_ROOT / "docker-compose.yml"
COMPOSE_FILES = sorted(PROJECT_ROOT.glob("docker-compose*.yml"))
OVERRIDES = [p for p in COMPOSE_FILES if p != BASE]
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
CONDITIONS = {"service_healthy", "service_completed_successfully"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|JWT|AIRFLOW_CONN_|_AUTH$", re.IGNORECASE)
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $${VAR} is left to the container's shell
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
BARE_VARIABLE = re.compile(r"(?<!\$)\$(?![{$])[A-Za-z_]")
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


def strings(node: Any) -> list[str]:
    """Every string in a parsed compose file (keys too): what compose interpolates; comments are not."""
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in strings(k) + strings(v)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f".env.example: bad line {line!r}"
            values[key] = value.strip().strip("'\"")
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """What compose does with .env: substitute ${...}, then unescape $$."""

    def sub(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env and (env[name] or not (op or "").startswith(":")):
            return env[name]
        if op and op.endswith("?"):
            raise AssertionError(f"required variable {name} is not set: {arg}")
        return arg if op and op.endswith("-") else ""

    return VARIABLE.sub(sub, text).replace("$$", "$")


def load(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(interpolate(text, env) if env is not None else text)
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), f"{path.name}: no services"
    return data


def merge(base: Any, over: Any, key: str = "") -> Any:
    """Compose's merge of an override: mappings by key, ports/volumes appended, everything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = merge(out[k], v, k) if k in out else copy.deepcopy(v)
        return out
    if key in ("ports", "volumes", "expose") and isinstance(base, list) and isinstance(over, list):
        return base + over
    return copy.deepcopy(over)


def services(files: list[Path], env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The services of ``files`` merged in order, ``extends`` resolved."""
    merged: dict[str, dict[str, Any]] = {}
    for path in files:
        for name, svc in load(path, env)["services"].items():
            if "extends" in svc:
                ext = svc["extends"]
                parent = load(path.parent / ext.get("file", path.name), env)["services"][ext["service"]]
                svc = merge(parent, {k: v for k, v in svc.items() if k != "extends"})
            merged[name] = merge(merged.get(name, {}), svc)
    return merged


def deployments() -> list[list[Path]]:
    return [[BASE]] + [[BASE, override] for override in OVERRIDES]


def one_shot(svc: dict[str, Any]) -> bool:
    return str(svc.get("restart", "")).lower() == "no"


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    assert isinstance(env, dict), "use the mapping form for environment"
    return {k: "" if v is None else str(v) for k, v in env.items()}


def deployment_id(files: list[Path]) -> str:
    return "+".join(p.name for p in files)


# --- parsing and pinning -------------------------------------------------------------------


def test_compose_files_parse_and_define_the_deployment():
    assert BASE in COMPOSE_FILES and (PROJECT_ROOT / "docker-compose.celery.yml") in COMPOSE_FILES
    for path in COMPOSE_FILES:
        load(path)
    base = services([BASE])
    assert {
        "opensearch",
        "opensearch-dashboards",
        "postgres",
        "airflow-init",
        "newsdrift-init",
        *AIRFLOW_COMMANDS,
    } <= set(base)
    for name, command in AIRFLOW_COMMANDS.items():
        assert base[name]["command"] == command
        assert environment(base[name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    celery = services([BASE, PROJECT_ROOT / "docker-compose.celery.yml"])
    assert {"redis", "airflow-worker"} <= set(celery)
    for name in [*AIRFLOW_COMMANDS, "airflow-worker"]:
        assert environment(celery[name])["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
    assert celery["airflow-worker"]["command"] == "celery worker"


def image_tag(image: str) -> tuple[str, str]:
    name, _, digest = image.partition("@")
    repo, sep, tag = name.rpartition(":")
    if not sep or "/" in tag:
        return name, ""
    return repo, tag


def test_every_image_is_pinned_to_a_version():
    for files in deployments():
        for name, svc in services(files).items():
            assert "image" in svc, f"{name}: name the image (built images too)"
            repo, tag = image_tag(svc["image"])
            if "build" in svc:
                # built here from this checkout, never pulled: its version is the package's own
                assert tag == "local", f"{name}: the built image is tagged :local, got {svc['image']}"
                continue
            assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {svc['image']} is not pinned"
    for line in DOCKERFILE.read_text().splitlines():
        if line.upper().startswith("FROM "):
            _repo, tag = image_tag(line.split()[1])
            assert tag and tag != "latest" and re.match(r"\d+\.\d+\.\d+", tag), line


def test_opensearch_and_dashboards_run_the_same_version():
    base = services([BASE])
    assert image_tag(base["opensearch"]["image"]) == (
        "opensearchproject/opensearch",
        image_tag(base["opensearch-dashboards"]["image"])[1],
    )
    assert image_tag(base["opensearch"]["image"])[1].startswith("3.")


# --- health and ordering --------------------------------------------------------------------


@pytest.mark.parametrize("files", deployments(), ids=deployment_id)
def test_long_running_services_have_healthchecks(files: list[Path]):
    for name, svc in services(files).items():
        if one_shot(svc):
            assert "healthcheck" not in svc or svc["healthcheck"].get("disable"), f"{name}: one-shot with healthcheck"
            continue
        check = svc.get("healthcheck")
        assert check and not check.get("disable"), f"{name} runs for good but has no healthcheck"
        test = check["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test}"
        assert svc.get("restart") in ("always", "unless-stopped"), f"{name}: restart policy"


@pytest.mark.parametrize("files", deployments(), ids=deployment_id)
def test_every_depends_on_uses_a_condition_that_fits_the_target(files: list[Path]):
    all_services = services(files)
    graph: dict[str, set[str]] = {}
    for name, svc in all_services.items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must be the long form with a condition"
        graph[name] = set(deps)
        for target, spec in deps.items():
            assert target in all_services, f"{name} depends on unknown {target}"
            assert target != name, f"{name} depends on itself"
            condition = (spec or {}).get("condition")
            assert condition in CONDITIONS, f"{name} -> {target}: condition {condition!r}"
            if condition == "service_healthy":
                assert "healthcheck" in all_services[target] and not one_shot(all_services[target]), (name, target)
            else:
                assert one_shot(all_services[target]), f"{name} -> {target}: {target} is not a one-shot service"
    done: set[str] = set()
    while len(done) < len(graph):  # the start order exists: no cycles
        ready = {n for n, deps in graph.items() if n not in done and deps <= done}
        assert ready, f"dependency cycle among {set(graph) - done}"
        done |= ready
    for name in AIRFLOW_COMMANDS:
        assert {"postgres", "airflow-init", "newsdrift-init"} <= graph[name]
    assert {"opensearch", "opensearch-dashboards"} <= graph["newsdrift-init"]


# --- variables and secrets ------------------------------------------------------------------


def test_every_variable_is_in_env_example_and_nothing_else_is():
    used = set()
    for path in COMPOSE_FILES:
        for value in strings(load(path)):
            assert not BARE_VARIABLE.search(value), f"{path.name}: {value!r}: write ${{VAR}} or $${{VAR}} (container)"
            used |= {m.group(1) for m in VARIABLE.finditer(value)}
    defined = env_example()
    assert used - set(defined) == set(), "variables missing from .env.example"
    assert set(defined) - used == set(), ".env.example lists variables no compose file uses"
    for path in (PROJECT_ROOT / ".gitignore", PROJECT_ROOT / ".dockerignore"):
        assert ".env" in path.read_text().splitlines(), f"{path.name} must exclude .env"


def test_no_secret_is_written_in_the_compose_files():
    placeholders = env_example()
    for key, value in placeholders.items():
        if SECRET_NAME.search(key) and not key.endswith("_USER"):
            assert "change-me" in value, f".env.example {key} must be a change-me placeholder, not a secret"
    for files in deployments():
        for name, svc in services(files).items():
            for key, value in environment(svc).items():
                if SECRET_NAME.search(key) and not key.endswith("_USER"):
                    assert VARIABLE.search(value), f"{name}: {key} must come from .env as ${{VAR}}"
                if "://" in value and "@" in value:  # credentials inside a URL
                    password = value.split("://", 1)[1].rpartition("@")[0].partition(":")[2]
                    assert VARIABLE.fullmatch(password), f"{name}: {key} embeds a literal password"
    for path in COMPOSE_FILES:
        text = path.read_text(encoding="utf-8")
        for key, value in placeholders.items():
            if SECRET_NAME.search(key) and not key.endswith("_USER"):
                assert value not in text, f"{path.name} contains the literal value of {key}"


def test_opensearch_security_is_on_and_newsdrift_uses_tls_with_the_admin_user():
    base = services([BASE])
    env = environment(base["opensearch"])
    assert "DISABLE_SECURITY_PLUGIN" not in env and "plugins.security.disabled" not in env
    assert VARIABLE.fullmatch(env["OPENSEARCH_INITIAL_ADMIN_PASSWORD"]).group(1) == "OPENSEARCH_INITIAL_ADMIN_PASSWORD"
    assert environment(base["opensearch-dashboards"])["OPENSEARCH_HOSTS"] == '["https://opensearch:9200"]'
    for name in [*AIRFLOW_COMMANDS, "newsdrift-init"]:
        svc_env = environment(base[name])
        assert svc_env["NEWSDRIFT_STORE_URL"] == "https://opensearch:9200"
        assert svc_env["NEWSDRIFT_STORE_USER"] == "admin"
        assert "OPENSEARCH_INITIAL_ADMIN_PASSWORD" in svc_env["NEWSDRIFT_STORE_PASSWORD"]
        assert svc_env["NEWSDRIFT_STORE_VERIFY_CERTS"] == "${NEWSDRIFT_STORE_VERIFY_CERTS}"
    for name in AIRFLOW_COMMANDS:
        assert environment(base[name])["AIRFLOW_CONN_OPENSEARCH_DEFAULT"].startswith(
            "${AIRFLOW_CONN_OPENSEARCH_DEFAULT"
        )
    conn = urlsplit(env_example()["AIRFLOW_CONN_OPENSEARCH_DEFAULT"])
    assert (conn.scheme, conn.hostname, conn.port, conn.username) == ("opensearch", "opensearch", 9200, "admin")
    assert parse_qs(conn.query) == {"use_ssl": ["true"], "verify_certs": ["false"]}


def test_init_services_apply_templates_load_the_baseline_and_import_dashboards():
    base = services([BASE])
    init = base["newsdrift-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    assert lines[0] == "newsdrift init" and lines[1] == "newsdrift baseline load"
    assert lines[2].startswith("newsdrift dashboards import --url http://opensearch-dashboards:5601")
    assert init["entrypoint"][:2] == ["/bin/bash", "-euo"], "stop at the first failing step"
    airflow_init = environment(base["airflow-init"])
    assert airflow_init["_AIRFLOW_DB_MIGRATE"] == "true" and airflow_init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    init_script = base["airflow-init"]["command"][-1]
    assert f"airflow pools set {HTTP_POOL} " in init_script, f"the ingest DAG's HTTP tasks run in pool {HTTP_POOL}"


# --- files, volumes, ports, Dockerfile ----------------------------------------------------------


def test_mounted_paths_build_contexts_and_named_volumes_exist():
    for path in COMPOSE_FILES:
        data = load(path)
        declared = set(data.get("volumes") or {})
        for name, svc in services([path]).items():
            for volume in svc.get("volumes", []):
                source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
                if source.startswith((".", "/")):
                    assert (path.parent / source).exists(), f"{path.name} {name}: {source} does not exist"
                else:
                    declared_here = declared or set(load(BASE).get("volumes") or {})
                    assert source in declared_here, f"{name}: named volume {source} is not declared"
            if "build" in svc:
                build = svc["build"] if isinstance(svc["build"], dict) else {"context": svc["build"]}
                context = path.parent / build.get("context", ".")
                assert context.is_dir() and (context / build.get("dockerfile", "Dockerfile")).is_file(), name
    base = services([BASE])
    assert "opensearch-data:/usr/share/opensearch/data" in base["opensearch"]["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in base["postgres"]["volumes"]


@pytest.mark.parametrize("files", deployments(), ids=deployment_id)
def test_host_ports_do_not_clash(files: list[Path]):
    seen: dict[tuple[str, int], str] = {}
    for name, svc in services(files, env=env_example()).items():
        for port in svc.get("ports", []):
            parts = str(port).split(":")
            assert len(parts) == 3, f"{name}: publish as address:host:container ({port})"
            key = (parts[0], int(parts[1]))
            assert key not in seen, f"{name} and {seen.get(key)} both publish {key}"
            seen[key] = name


def test_dockerfile_extends_the_pinned_airflow_and_installs_the_package():
    text = DOCKERFILE.read_text()
    [base] = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    match = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+)\.(\d+)", base)
    assert match, base
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    # the extra declares a range; the image runs the version constraints.txt pins, inside that range
    from packaging.requirements import Requirement

    [declared] = [
        Requirement(r) for r in project["optional-dependencies"]["airflow"] if Requirement(r).name == "apache-airflow"
    ]
    constraint = re.search(r"^apache-airflow==(\S+)$", (PROJECT_ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert match.group(1) == constraint.group(1) and declared.specifier.contains(constraint.group(1))
    assert not declared.specifier.contains("4.0.0") and not declared.specifier.contains("2.10.5")
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", project["requires-python"])
    assert (int(match.group(2)), int(match.group(3))) >= (int(minimum.group(1)), int(minimum.group(2)))
    assert re.search(r"pip install --no-cache-dir -c constraints\.txt -e \"\.\[airflow\]\"", text)
    ignored = {line.strip().rstrip("/") for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()}
    copied = [
        src for line in re.findall(r"^COPY\s+(?:--\S+\s+)*(.+)$", text, re.MULTILINE) for src in line.split()[:-1]
    ]
    for needed in ("dags/", "config/", "mappings/", "baseline/", "dashboards/", "constraints.txt"):
        assert needed in copied, f"the image needs {needed}"
    for src in copied:
        assert (PROJECT_ROOT / src).exists(), f"COPY {src}: missing"
        assert src.rstrip("/") not in ignored, f"COPY {src} is excluded by .dockerignore"
