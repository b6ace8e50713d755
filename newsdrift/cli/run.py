"""``newsdrift run|watch``: ingestion passes (poll, fetch, extract, score, index), once or in a loop."""

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

from newsdrift.cli.support import JsonOption, cli_errors, console, emit_json, err_console, print_summary
from newsdrift.settings import get_settings

FeedsOption = typer.Option(None, "--feeds", help="Feed list (YAML); default NEWSDRIFT_FEEDS_FILE or config/feeds.yaml.")

EXIT_ALL_FEEDS_FAILED = 2  # 1 is an error that stopped the pass (cluster down, bad configuration)


class _RunContext:
    """Feeds to poll, plus the sample server when no feeds are configured."""

    def __init__(self, feeds_file, quiet: bool) -> None:
        from newsdrift.ops.sample import SampleServer

        self.feeds_file, self.quiet = feeds_file, quiet
        self.server: SampleServer | None = None

    def __enter__(self):
        from newsdrift.ops import demo
        from newsdrift.run.preflight import validate_all

        s = get_settings()
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
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates

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


def no_feed_polled(summary) -> bool:
    """Feeds were due and none of them could be polled (a pass with nothing due is not a failure)."""
    return summary.feeds_polled > 0 and summary.feeds_failed == summary.feeds_polled


@cli_errors
def run(
    once: bool = typer.Option(True, "--once/--no-once", help="One pass (the default); see `watch` for a loop."),
    feeds_file=FeedsOption,
    all_feeds: bool = typer.Option(False, "--all", help="Poll every enabled feed, not only the due ones."),
    as_json: bool = JsonOption,
) -> None:
    """Poll due feeds, fetch and extract new articles, score them and index them.

    Exit status: 0 when the pass ran, 1 when it could not (cluster unreachable, invalid
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
    cancelled, so a pass whose tasks absorb the cancellation (a library catching it on the way) would run on,
    and the watch loop with it. Here the interrupt cancels every task of a running loop (outside one it
    raises KeyboardInterrupt), and the flag stops the watch loop after the pass even if a task caught it."""
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
