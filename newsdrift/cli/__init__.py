"""The ``newsdrift`` command: one function per command, errors as messages, ``--json`` for scripts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from newsdrift.cli.support import cli_errors
from newsdrift.errors import NewsdriftError
from newsdrift.settings import Settings, get_settings

app = typer.Typer(
    name="newsdrift",
    help="Watch the press coverage of the open-source AI debate: ingest feeds, detect duplicates and "
    "narrative drift, alert.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
opensearch_app = typer.Typer(help="Manage the embedded single-node OpenSearch (no Docker).", no_args_is_help=True)
app.add_typer(opensearch_app, name="opensearch")
node_app = typer.Typer(
    help="Manage an embedded single-node OpenSearch or Elasticsearch 7.10 (no Docker).", no_args_is_help=True
)
app.add_typer(node_app, name="node")


def _add_subcommands() -> None:
    from newsdrift.cli.alerts import alerts_app
    from newsdrift.cli.backfill import register as register_backfill
    from newsdrift.cli.dashboards import dashboards_app
    from newsdrift.cli.feeds import register as register_feed_commands

    app.add_typer(alerts_app, name="alerts")
    app.add_typer(dashboards_app, name="dashboards")
    register_feed_commands(feeds_app)
    register_backfill(app)


console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")


def settings() -> Settings:
    return get_settings()


# --- node / opensearch ------------------------------------------------------------
# `newsdrift node ... --engine opensearch|elasticsearch` manages either embedded node; `newsdrift opensearch ...`
# is the same for OpenSearch (kept for scripts written before Elasticsearch support).

EngineOption = typer.Option(
    None,
    "--engine",
    help="opensearch or elasticsearch (Elasticsearch 7.10.2); default NEWSDRIFT_ENGINE (opensearch).",
)


def _engine(engine: str | None) -> str:
    from newsdrift.ops import node

    chosen = engine or settings().engine
    node.engine_spec(chosen)  # an unknown name is a clear NodeError
    return chosen


def _node_install(engine: str, force: bool) -> None:
    from newsdrift.ops import node

    spec = node.engine_spec(engine)
    with console.status(f"fetching the {spec.label} runner {node.runner_version(engine)} with Maven..."):
        lib = node.install(settings(), force=force, engine=engine)
    console.print(f"{spec.label} jars in {lib}")


def _node_start(engine: str, as_json: bool) -> None:
    from newsdrift.ops import node

    s = settings()
    spec = node.engine_spec(engine)
    port = node.node_port(s, engine)
    if s.opensearch_url:
        console.print(f"NEWSDRIFT_STORE_URL is set ({s.opensearch_url}); the embedded node is not used.")
    already = node.running_state(s, engine)
    requested_busy = already is None and node.port_busy(port)
    started = time.monotonic()
    with console.status(f"starting {spec.label} (first start fetches the jars)..."):
        state = node.start(s, engine=engine)
    took = time.monotonic() - started
    if as_json:
        emit_json(
            {
                "engine": engine,
                "url": state.url,
                "pid": state.pid,
                "log": state.log,
                "already_running": already is not None,
                "seconds": round(took, 1),
            }
        )
        return
    if requested_busy and state.port != port:
        variable = "NEWSDRIFT_ELASTICSEARCH_PORT" if engine == "elasticsearch" else "NEWSDRIFT_OPENSEARCH_PORT"
        err_console.print(
            f"[yellow]port {port} is busy; the node took {state.port} instead (set {variable} to choose another).[/]"
        )
    verb = "already running" if already else f"started in {took:.1f}s"
    console.print(f"{spec.label} {verb}: [bold]{state.url}[/] (pid {state.pid}, log {state.log})")
    if engine != s.engine and not s.opensearch_url:
        console.print(f"Use it with NEWSDRIFT_ENGINE={engine} (or NEWSDRIFT_STORE_URL={state.url}).")


def _node_stop(engine: str) -> None:
    from newsdrift.ops import node

    label = node.engine_spec(engine).label
    if node.stop(settings(), engine=engine):
        console.print(f"{label} stopped.")
    else:
        console.print(f"{label} was not running.")


def _node_status(engine: str, as_json: bool) -> None:
    from newsdrift.ops import node
    from newsdrift.secrets import redact
    from newsdrift.store.client import resolve_url

    s = settings()
    state = node.running_state(s, engine)
    url = resolve_url(s) if s.opensearch_url or engine == s.engine else None
    if url is None:
        url = state.url if state else f"http://127.0.0.1:{node.node_port(s, engine)}"
    info = node.health(url)
    data = {
        "engine": engine,
        "url": redact(url),
        "embedded": s.opensearch_url is None,
        "pid": state.pid if state else None,
        "log": state.log if state else None,
        "health": info.get("status") if info else None,
        "installed": node.is_installed(s, engine),
    }
    if as_json:
        emit_json(data)
    else:
        table = Table(show_header=False)
        for key, value in data.items():
            table.add_row(key, str(value))
        console.print(table)
    if info is None:
        raise typer.Exit(1)


@node_app.command("install")
@cli_errors
def node_install(
    engine: str | None = EngineOption, force: bool = typer.Option(False, help="Fetch the jars again.")
) -> None:
    """Fetch the server jars from Maven Central (done by `start` when needed)."""
    _node_install(_engine(engine), force)


@node_app.command("start")
@cli_errors
def node_start(engine: str | None = EngineOption, as_json: bool = JsonOption) -> None:
    """Start the embedded node in the background and wait until it is healthy."""
    _node_start(_engine(engine), as_json)


@node_app.command("stop")
@cli_errors
def node_stop(engine: str | None = EngineOption) -> None:
    """Stop the embedded node (no JVM is left behind)."""
    _node_stop(_engine(engine))


@node_app.command("status")
@cli_errors
def node_status(engine: str | None = EngineOption, as_json: bool = JsonOption) -> None:
    """Report whether the node runs, where, and its cluster health."""
    _node_status(_engine(engine), as_json)


@opensearch_app.command("install")
@cli_errors
def opensearch_install(force: bool = typer.Option(False, help="Fetch the jars again.")) -> None:
    """Fetch the OpenSearch server jars from Maven Central (done by `start` when needed)."""
    _node_install("opensearch", force)


@opensearch_app.command("start")
@cli_errors
def opensearch_start(as_json: bool = JsonOption) -> None:
    """Start the embedded node in the background and wait until it is healthy."""
    _node_start("opensearch", as_json)


@opensearch_app.command("stop")
@cli_errors
def opensearch_stop() -> None:
    """Stop the embedded node (no JVM is left behind)."""
    _node_stop("opensearch")


@opensearch_app.command("status")
@cli_errors
def opensearch_status(as_json: bool = JsonOption) -> None:
    """Report whether the node runs, where, and its cluster health."""
    _node_status("opensearch", as_json)


# --- init -----------------------------------------------------------------------


@app.command()
@cli_errors
def init(as_json: bool = JsonOption) -> None:
    """Apply the index templates in mappings/, create missing indices, and the ISM rollover/retention policy
    where the cluster has the Index State Management plugin (idempotent)."""
    from newsdrift.store import IndexNames, apply_templates, connect
    from newsdrift.store.ism import apply_ism_policy

    s = settings()
    client = connect(s)
    changes = apply_templates(client, IndexNames(s.index_prefix))
    changed = [c for c in changes if c.action != "unchanged"]
    ism = apply_ism_policy(client, s, IndexNames(s.index_prefix))
    if as_json:
        emit_json({"changed": len(changed), "items": [c.__dict__ for c in changes], "ism": ism.to_json()})
        return
    table = Table(title="index templates and indices")
    for col in ("name", "kind", "action", "version"):
        table.add_column(col)
    for c in changes:
        version = (
            ""
            if c.version is None
            else (f"{c.previous_version} → {c.version}" if c.action == "updated" else str(c.version))
        )
        style = "green" if c.action == "created" else "yellow" if c.action == "updated" else "dim"
        table.add_row(c.name, c.kind, f"[{style}]{c.action}[/]", version)
    console.print(table)
    console.print("no changes" if not changed else f"{len(changed)} change(s) applied")
    if ism.status == "absent":
        console.print(f"ISM policy: not applied ({ism.reason})")
    else:
        console.print(f"ISM policy {ism.policy_id}: {ism.status}, attached to {ism.attached} new index(es)")


@app.command()
@cli_errors
def info(as_json: bool = JsonOption) -> None:
    """What exists in the cluster: engine and version, newsdrift indices and their document counts."""
    from newsdrift.store import IndexNames, connect

    s = settings()
    client = connect(s)
    from newsdrift.store.engine import engine_of

    names = IndexNames(s.index_prefix)
    engine = engine_of(client)
    rows = client.cat.indices(index=f"{names.prefix}-*", format="json", h="index,docs.count,health")
    aliases = client.cat.aliases(name=f"{names.prefix}-*", format="json", h="alias,index,is_write_index")
    data = {
        "engine": engine.name,
        "version": engine.version,
        # kept for scripts reading the old key; it is the engine's version whichever engine answers
        "opensearch_version": engine.version,
        "indices": sorted(rows, key=lambda r: r["index"]),
        "aliases": aliases,
    }
    if as_json:
        emit_json(data)
        return
    console.print(engine.describe())
    table = Table(title=f"indices with prefix {names.prefix!r}")
    for col in ("index", "docs", "health"):
        table.add_column(col)
    for row in data["indices"]:
        table.add_row(row["index"], row["docs.count"], row["health"])
    console.print(table)


# --- ingestion -------------------------------------------------------------------

feeds_app = typer.Typer(help="Feed health and configuration.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
sample_app = typer.Typer(
    help="The offline sample corpus (fictional outlets) and its loopback server.", no_args_is_help=True
)
app.add_typer(sample_app, name="sample")

FeedsOption = typer.Option(None, "--feeds", help="Feed list (YAML); default NEWSDRIFT_FEEDS_FILE or config/feeds.yaml.")


class _RunContext:
    """Feeds to poll, plus the sample server when no feeds are configured."""

    def __init__(self, feeds_file, quiet: bool) -> None:
        from newsdrift.ops.sample import SampleServer

        self.feeds_file, self.quiet = feeds_file, quiet
        self.server: SampleServer | None = None

    def __enter__(self):
        from newsdrift.ops import demo
        from newsdrift.run.preflight import validate_all

        s = settings()
        # every configuration file, before a feed is polled or anything is written
        validate_all(s, feeds_file=self.feeds_file)
        feeds = demo.configured_feeds(self.feeds_file or s.feeds_path)
        if not feeds:
            self.server = demo.start_sample_server(s.sample_port)
            feeds = demo.sample_feeds(self.server.url)
            s = demo.sample_settings(s)
            if not self.quiet:
                err_console.print(
                    f"[dim]no feeds configured: using the offline sample corpus at {self.server.url} "
                    "(add feeds to config/feeds.yaml)[/]"
                )
        return s, feeds

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            self.server.stop()


def _progress_printer(progress, tasks):
    def on_event(event: str, **info) -> None:
        if event == "poll_start":
            tasks["poll"] = progress.add_task("polling feeds", total=info["total"])
        elif event == "poll_done":
            progress.advance(tasks["poll"])
        elif event == "fetch_start":
            tasks["fetch"] = progress.add_task("fetching articles", total=info["total"])
        elif event == "entry_done":
            progress.advance(tasks["fetch"])

    return on_event


def _run_pass(s, feeds, force: bool, as_json: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from newsdrift.run.ingest import run_once
    from newsdrift.store import IndexNames, apply_templates, connect

    client = connect(s)
    apply_templates(client, IndexNames(s.index_prefix))
    show = not as_json and err_console.is_terminal
    if not show:
        return run_once(s, client, feeds, force=force)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        return run_once(s, client, feeds, force=force, progress=_progress_printer(progress, {}))


def print_summary(summary) -> None:
    data = summary.to_json()
    table = Table(title="run summary", show_header=False)
    for key, value in data.items():
        if key != "errors":
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    if summary.errors:
        errors = Table(title=f"{len(summary.errors)} problem(s), recorded", show_lines=False)
        errors.add_column("where", overflow="fold")
        errors.add_column("reason", overflow="fold")
        for e in summary.errors[:50]:
            errors.add_row(e.where, e.reason)
        console.print(errors)
        if len(summary.errors) > 50:
            console.print(f"... and {len(summary.errors) - 50} more (use --json for all)")


EXIT_ALL_FEEDS_FAILED = 2  # 1 is an error that stopped the pass (cluster down, bad configuration)


def no_feed_polled(summary) -> bool:
    """Feeds were due and none of them could be polled (a pass with nothing due is not a failure)."""
    return summary.feeds_polled > 0 and summary.feeds_failed == summary.feeds_polled


@app.command()
@cli_errors
def run(
    once: bool = typer.Option(True, "--once/--no-once", help="One pass (the default); see `watch` for a loop."),
    feeds_file=FeedsOption,
    all_feeds: bool = typer.Option(False, "--all", help="Poll every enabled feed, not only the due ones."),
    as_json: bool = JsonOption,
) -> None:
    """Poll due feeds, fetch and extract new articles, score them and index them.

    Exit status: 0 when the pass ran, 1 when it could not (OpenSearch unreachable, invalid
    configuration), 2 when feeds were due and every one of them failed.
    """
    with _RunContext(feeds_file, quiet=as_json) as (s, feeds):
        summary = _run_pass(s, feeds, force=all_feeds, as_json=as_json)
    if as_json:
        emit_json(summary.to_json())
    else:
        print_summary(summary)
    if no_feed_polled(summary):
        # cron and CI must see a pass where every feed failed (the summary above is still complete)
        if not as_json:
            err_console.print(f"[red]every feed failed ({summary.feeds_failed} of {summary.feeds_polled})[/]")
        raise typer.Exit(EXIT_ALL_FEEDS_FAILED)


def parse_interval(value: str) -> float:
    from newsdrift.feeds.catalog import parse_duration

    try:
        return float(parse_duration(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextlib.contextmanager
def _ctrl_c() -> Iterator[threading.Event]:
    """Ctrl-C stops a pass's event loop as asyncio.run would, and is remembered.

    asyncio.run turns SIGINT into a cancellation and raises KeyboardInterrupt only if its main task ends
    cancelled, so a pass whose tasks absorb the cancellation (a library catching it on the way) ran on,
    and the watch loop with it (seen once in CI: no stop within 60 s). Here the interrupt cancels every
    task of a running loop (outside one it raises KeyboardInterrupt), and the flag stops the watch loop
    after the pass even if a task caught it."""
    interrupted = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        interrupted.set()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside a pass's event loop
            signal.default_int_handler(signum, frame)
            return
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.call_soon_threadsafe(lambda: None)  # wake the loop if it waits in select()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


@app.command()
@cli_errors
def watch(
    interval: str = typer.Option("5m", help="Time between passes, e.g. 30s, 5m, 1h."),
    feeds_file=FeedsOption,
    max_passes: int = typer.Option(0, help="Stop after N passes (0: until Ctrl-C)."),
    all_feeds: bool = typer.Option(
        False,
        "--all",
        help="Poll every enabled feed on every pass, not only the "
        "due ones (conditional GETs keep it cheap): for watching a few feeds closely.",
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON summary line per pass."),
) -> None:
    """Run passes in a loop until Ctrl-C (stops cleanly between or during passes)."""
    seconds = parse_interval(interval)
    passes = 0
    with _RunContext(feeds_file, quiet=as_json) as (s, feeds), _ctrl_c() as interrupted:
        try:
            while True:
                summary = _run_pass(s, feeds, force=all_feeds, as_json=True)
                passes += 1
                if interrupted.is_set():  # a Ctrl-C that a pass's event loop took for one of its own tasks
                    raise KeyboardInterrupt
                if as_json:
                    sys.stdout.write(json.dumps(summary.to_json(), default=str) + "\n")
                    sys.stdout.flush()
                else:
                    console.print(
                        f"[dim]{time.strftime('%H:%M:%S')}[/] pass {passes}: {summary.feeds_polled} feeds polled, "
                        f"{summary.indexed} indexed, {summary.articles_known} known, {len(summary.errors)} problems"
                    )
                if max_passes and passes >= max_passes:
                    break
                time.sleep(seconds)
        except (KeyboardInterrupt, asyncio.CancelledError):
            if not interrupted.is_set():
                raise
            err_console.print(f"stopped after {passes} pass(es)")


@feeds_app.command("status")
@cli_errors
def feeds_status(as_json: bool = JsonOption) -> None:
    """Per-feed health: last success, consecutive failures, last error, counters."""
    from newsdrift.feeds.state import all_states
    from newsdrift.store import IndexNames, connect

    s = settings()
    states = all_states(connect(s), IndexNames(s.index_prefix))
    if as_json:
        emit_json(states)
        return
    table = Table(title="feeds")
    for col in ("name", "health", "last success", "failures", "seen", "dropped", "indexed", "last error"):
        table.add_column(col, overflow="fold")
    for st in states:
        colour = {"ok": "green", "degraded": "yellow"}.get(st.get("health", ""), "red")
        dropped = str(st.get("entries_dropped", 0))
        if st.get("dropped_reasons"):
            dropped += f" ({st['dropped_reasons'][0]}{', ...' if len(st['dropped_reasons']) > 1 else ''})"
        table.add_row(
            st.get("name", ""),
            f"[{colour}]{st.get('health', '?')}[/]",
            str(st.get("last_success_at", "never"))[:19],
            str(st.get("consecutive_failures", 0)),
            str(st.get("entries_seen", 0)),
            dropped,
            str(st.get("articles_indexed", 0)),
            st.get("last_error", "") if st.get("consecutive_failures") else "",
        )
    console.print(f"{len(states)} feeds")
    console.print(table)


@app.command()
@cli_errors
def search(
    query: str = typer.Argument(..., help="Full-text query (OpenSearch simple_query_string syntax)."),
    since: str | None = typer.Option(None, help="Only articles published since, e.g. 2026-09-01 or 7d."),
    size: int = typer.Option(10, min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """Full-text search over indexed articles."""
    from newsdrift.store import IndexNames, connect

    s = settings()
    must: list[dict] = [
        {"simple_query_string": {"query": query, "fields": ["title^3", "text"], "default_operator": "and"}}
    ]
    if since:
        start = since if since[0].isdigit() and "-" in since else f"now-{since}"
        must.append({"range": {"published_at": {"gte": start}}})
    resp = connect(s).search(
        index=IndexNames(s.index_prefix).articles,
        body={
            "query": {"bool": {"must": must}},
            "size": size,
            "_source": ["title", "source", "published_at", "canonical_url", "topic_relevance"],
            "highlight": {"fields": {"text": {"fragment_size": 160, "number_of_fragments": 1}}},
        },
    )
    hits = resp["hits"]["hits"]
    if as_json:
        emit_json(
            [
                {
                    "id": h["_id"],
                    "score": h["_score"],
                    **h["_source"],
                    "highlight": h.get("highlight", {}).get("text", [""])[0],
                }
                for h in hits
            ]
        )
        return
    table = Table(title=f"{resp['hits']['total']['value']} match(es) for {query!r}")
    for col in ("published", "source", "title", "url"):
        table.add_column(col, overflow="fold")
    for h in hits:
        src = h["_source"]
        table.add_row(
            str(src.get("published_at", ""))[:10],
            src.get("source", ""),
            src.get("title", ""),
            src.get("canonical_url", ""),
        )
    console.print(table)


@sample_app.command("serve")
@cli_errors
def sample_serve(
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
    host: str = typer.Option("127.0.0.1", help="Interface (loopback by default)."),
) -> None:
    """Serve the offline sample corpus (feeds and pages) until Ctrl-C."""
    from newsdrift.ops.sample.server import serve_forever

    console.print(f"serving the sample corpus on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        serve_forever(host=host, port=port)
    except KeyboardInterrupt:
        pass


# --- baseline and drift ---------------------------------------------------------------

baseline_app = typer.Typer(help="Baselines: the reference corpus drift is measured against.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")
drift_app = typer.Typer(help="Narrative drift against the baseline: windows, events, reports.", no_args_is_help=True)
app.add_typer(drift_app, name="drift")


@baseline_app.command("load")
@cli_errors
def baseline_load(
    sources: list[str] = typer.Argument(None, help="Files, folders or URLs (default: the shipped baseline/)."),
    name: str = typer.Option("seed", help="Baseline name; versions are <name>-v1, -v2, ..."),
    as_json: bool = JsonOption,
) -> None:
    """Process documents like articles and index them as a new, versioned baseline (idempotent)."""
    from newsdrift.score import baseline
    from newsdrift.score.frames import load_frames
    from newsdrift.store import IndexNames, apply_templates, connect

    s = settings()
    client = connect(s)
    names = IndexNames(s.index_prefix)
    apply_templates(client, names)
    docs, failures = baseline.read_documents(sources or [str(s.baseline_dir)], s)
    for f in failures:
        err_console.print(f"[yellow]skipped[/] {f.where}: {f.reason}")
    if not docs:
        raise NewsdriftError("no baseline document could be read")
    result = baseline.load(client, names, docs, name=name, frames=load_frames(s.frames_path))
    data = {
        "baseline_id": result.baseline_id,
        "created": result.created,
        "documents": result.documents,
        "failures": [f.to_dict() for f in failures + result.failures],
    }
    if as_json:
        emit_json(data)
        return
    verb = "loaded" if result.created else "already loaded (same documents)"
    console.print(f"baseline [bold]{result.baseline_id}[/] {verb}: {result.documents} document(s)")
    if result.created and result.baseline_id != s.baseline_id:
        console.print(f"measure drift against it with NEWSDRIFT_BASELINE_ID={result.baseline_id}")


@baseline_app.command("list")
@cli_errors
def baseline_list(as_json: bool = JsonOption) -> None:
    """Stored baselines and their document counts."""
    from newsdrift.score import baseline
    from newsdrift.store import IndexNames, connect

    s = settings()
    rows = baseline.list_baselines(connect(s), IndexNames(s.index_prefix))
    if as_json:
        emit_json(rows)
        return
    table = Table(title="baselines")
    for col in ("baseline id", "documents", "loaded at", "in use"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["baseline_id"],
            str(r["documents"]),
            str(r["loaded_at"])[:19],
            "yes" if r["baseline_id"] == s.baseline_id else "",
        )
    console.print(table)


def _drift_store(s: Settings):
    from newsdrift.score import baseline
    from newsdrift.score.drift import DriftScorer
    from newsdrift.score.drift_store import DriftStore
    from newsdrift.score.frames import load_frames
    from newsdrift.store import IndexNames, apply_templates, connect

    client = connect(s)
    names = IndexNames(s.index_prefix)
    apply_templates(client, names)
    frames = load_frames(s.frames_path)
    docs = baseline.ensure_default(client, names, s, frames)
    scorer = DriftScorer([d["text"] for d in docs], frames, baseline_id=s.baseline_id)
    return DriftStore(client, names.drift, names.articles, scorer)


@drift_app.command("update")
@cli_errors
def drift_update(as_json: bool = JsonOption) -> None:
    """Recompute every drift window and event against the current baseline (after a baseline change)."""
    result = _drift_store(settings()).backfill()
    data = {
        "windows": len(result.windows),
        "windows_removed": len(result.windows_removed),
        "docs_written": result.docs_written,
        "events": len(result.events),
        "failures": [f.to_dict() for f in result.failures],
    }
    if as_json:
        emit_json(data)
    else:
        console.print(f"{data['windows']} window(s) recomputed, {data['events']} event(s) detected")


@drift_app.command("report")
@cli_errors
def drift_report(
    window: str = typer.Option("1d", help="Window size, e.g. 1d or 7d."),
    since: str | None = typer.Option(None, help="Only windows from this date (YYYY-MM-DD)."),
    html: str | None = typer.Option(None, "--html", help="Also write a self-contained HTML page with charts."),
    as_json: bool = JsonOption,
) -> None:
    """Drift windows and events as a table, JSON or an HTML page."""
    from newsdrift.score.report import REPORT_COLUMNS, event_rows, render_report_html, report_rows

    s = settings()
    store = _drift_store(s)
    windows = store.load_windows(window, since=since)
    events = store.load_events(window, since=since)
    if html:
        path = render_report_html(
            windows, events, html, config=store.config, title=f"newsdrift: drift vs {s.baseline_id} ({window} windows)"
        )
        err_console.print(f"wrote {path}")
    rows = report_rows(windows, events)
    if as_json:
        emit_json({"baseline_id": s.baseline_id, "window": window, "windows": rows, "events": event_rows(events)})
        return
    table = Table(title=f"drift vs {s.baseline_id}, {window} windows")
    for _, header in REPORT_COLUMNS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(key, "")) for key, _ in REPORT_COLUMNS))
    console.print(table)
    for e in event_rows(events):
        console.print(f"[bold red]event[/] {e['metric']} from {e['first_window']}:\n{e['explanation']}\n")
    if not windows:
        console.print("no drift windows yet: run `newsdrift run` first")


_add_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
