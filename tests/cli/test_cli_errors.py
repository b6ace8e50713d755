"""One error model: every command group reports errors the same way; alerting steps fail as records."""

from __future__ import annotations

import logging
import os
import textwrap
from dataclasses import dataclass, field
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from newsdrift import errors
from newsdrift.alert import service
from newsdrift.alert.stage import AlertingStage
from newsdrift.cli import app
from newsdrift.records import Failure
from newsdrift.run.context import pass_context
from newsdrift.secrets import register_secret
from newsdrift.settings import get_settings

SECRET_TOKEN = "T0KEN-cli-errors-4711"
SECRET_URL = f"json://hooks.example.org/alerts/{SECRET_TOKEN}"
MESSAGE = f"cannot reach [bold]{SECRET_URL}[/bold] (see [red]the log[/])"

# one command of each module, made to fail for real: the cluster (or Dashboards) URL names a closed port, and
# its path carries a registered secret and rich markup, which end up in the error message
DEAD_URL = f"http://127.0.0.1:9/[bold]{SECRET_TOKEN}[/bold]"
COMMANDS = {
    "store": (["info"], {"NEWSDRIFT_STORE_URL": DEAD_URL}, "newsdrift.cli.store.get_settings"),
    "alerts": (
        ["alerts", "list"],
        {"NEWSDRIFT_STORE_URL": DEAD_URL},
        "newsdrift.cli.alerts.get_settings",
    ),
    "dashboards": (
        ["dashboards", "import", "--prefix", "acme", "--url", DEAD_URL],
        {},
        "newsdrift.cli.dashboards.get_settings",
    ),
}


def invoke(monkeypatch, args: list[str], env: dict[str, str] | None = None):
    for key in [k for k in os.environ if k.startswith("NEWSDRIFT_DASHBOARDS_")]:
        monkeypatch.delenv(key)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, catch_exceptions=True)
    finally:
        get_settings.cache_clear()


def raising(exc: BaseException):
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


def test_the_hierarchy():
    assert issubclass(errors.FramesConfigError, errors.ConfigError)
    assert issubclass(errors.FramesConfigError, ValueError)
    assert issubclass(errors.ChannelUnavailable, errors.AlertingError)
    for exc in (
        errors.ConfigError,
        errors.ClusterUnavailable,
        errors.NodeError,
        errors.DashboardsError,
        errors.AlertingError,
    ):
        assert issubclass(exc, errors.NewsdriftError)
        assert exc.__name__ in errors.__doc__
    # the modules that raise them export them too
    from newsdrift.alert.rules import ChannelUnavailable
    from newsdrift.ops.dashboards import DashboardsError
    from newsdrift.score.frames import FramesConfigError

    assert (ChannelUnavailable, DashboardsError, FramesConfigError) == (
        errors.ChannelUnavailable,
        errors.DashboardsError,
        errors.FramesConfigError,
    )


@pytest.mark.parametrize("cli", sorted(COMMANDS))
def test_every_cli_prints_one_redacted_escaped_error_line_and_exits_1(cli, monkeypatch):
    register_secret(f"json://hooks.example.org/alerts/{SECRET_TOKEN}")
    args, env, _ = COMMANDS[cli]
    result = invoke(monkeypatch, args, env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("error:") == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output
    assert SECRET_TOKEN not in result.output and "***" in result.stderr  # redacted
    assert "[bold]" in result.stderr  # markup shown as written, not interpreted


# Ctrl-C and programming errors are made by the CLI's own settings loader (no client is patched).


@pytest.mark.parametrize("cli", sorted(COMMANDS))
def test_every_cli_exits_130_on_ctrl_c(cli, monkeypatch):
    args, env, settings_loader = COMMANDS[cli]
    monkeypatch.setattr(settings_loader, raising(KeyboardInterrupt()))
    result = invoke(monkeypatch, args, env)
    assert result.exit_code == 130, result.output
    assert result.stderr.strip() == "interrupted"


def test_every_command_is_wrapped_in_cli_errors():
    def callbacks(group: typer.Typer, path: str):
        for command in group.registered_commands:
            yield f"{path} {command.name}", command.callback
        for sub in group.registered_groups:
            yield from callbacks(sub.typer_instance, f"{path} {sub.name}")

    from newsdrift.cli.support import cli_errors

    wrapper = cli_errors(lambda: None).__code__
    found = dict(callbacks(app, "newsdrift"))
    assert len(found) > 15
    unwrapped = [path for path, callback in found.items() if callback.__code__ is not wrapper]
    assert not unwrapped, unwrapped


def test_unexpected_errors_keep_their_traceback(monkeypatch):
    monkeypatch.setattr("newsdrift.cli.store.get_settings", raising(RuntimeError("a bug")))
    result = invoke(monkeypatch, ["info"])
    assert isinstance(result.exception, RuntimeError)


# --- dashboards settings ---------------------------------------------------------------------


@pytest.fixture
def import_calls(monkeypatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_import(url: str, file: Any, **kwargs: Any) -> Any:
        calls.append({"url": url, **kwargs})
        raise errors.DashboardsError("stop here")

    monkeypatch.setattr("newsdrift.cli.dashboards.import_dashboards", fake_import)
    return calls


def test_dashboards_import_reads_its_settings(monkeypatch, import_calls, tmp_path):
    ca = tmp_path / "ca.pem"
    env = {
        "NEWSDRIFT_DASHBOARDS_URL": "https://dash.example.org",
        "NEWSDRIFT_DASHBOARDS_USER": "admin",
        "NEWSDRIFT_DASHBOARDS_PASSWORD": "pw-from-env",
        "NEWSDRIFT_DASHBOARDS_TENANT": "global",
        "NEWSDRIFT_DASHBOARDS_CA_CERTS": str(ca),
        "NEWSDRIFT_INDEX_PREFIX": "acme",
    }
    assert invoke(monkeypatch, ["dashboards", "import"], env).exit_code == 1
    assert import_calls[-1] == {
        "url": "https://dash.example.org",
        "user": "admin",
        "password": "pw-from-env",
        "verify": str(ca),
        "overwrite": True,
        "prefix": "acme",
        "wait": 0.0,
        "flavor": "opensearch",
        "tenant": "global",
    }
    # options win over the settings
    args = [
        "dashboards",
        "import",
        "--url",
        "http://other:5601",
        "--user",
        "me",
        "--password",
        "pw",
        "--tenant",
        "private",
        "--no-verify",
        "--prefix",
        "p2",
    ]
    assert invoke(monkeypatch, args, env).exit_code == 1
    assert import_calls[-1] == {
        "url": "http://other:5601",
        "user": "me",
        "password": "pw",
        "verify": False,
        "overwrite": True,
        "prefix": "p2",
        "wait": 0.0,
        "flavor": "opensearch",
        "tenant": "private",
    }
    # defaults
    assert invoke(monkeypatch, ["dashboards", "import", "--prefix", "p3"]).exit_code == 1
    assert import_calls[-1] == {
        "url": "http://127.0.0.1:5601",
        "user": None,
        "password": None,
        "verify": True,
        "overwrite": True,
        "prefix": "p3",
        "wait": 0.0,
        "flavor": "opensearch",
        "tenant": None,
    }
    assert (
        invoke(
            monkeypatch, ["dashboards", "import", "--prefix", "p3"], {"NEWSDRIFT_DASHBOARDS_VERIFY_CERTS": "false"}
        ).exit_code
        == 1
    )
    assert import_calls[-1]["verify"] is False


def test_dashboards_import_of_an_unreadable_file_is_one_error_line(monkeypatch, tmp_path):
    result = invoke(monkeypatch, ["dashboards", "import", "--prefix", "p", "--file", str(tmp_path / "none.ndjson")])
    assert result.exit_code == 1 and result.stderr.count("error:") == 1, result.output
    assert "none.ndjson" in result.stderr and "Traceback" not in result.output


# --- alerting failures are records -------------------------------------------------------------


def test_failed_cycle_steps_are_failures_not_warnings(caplog):
    """A cluster that is gone: the checks and the delivery step fail for real and come back as records."""
    from newsdrift.alert import parse_rules
    from newsdrift.settings import load_settings
    from newsdrift.store.client import make_client
    from newsdrift.store.names import IndexNames

    dead = make_client(load_settings(store_url="http://127.0.0.1:9", store_retries=0))
    with caplog.at_level(logging.DEBUG, logger="newsdrift"):
        rules = parse_rules({"rules": [{"name": "feeds", "kind": "feed_health", "consecutive_failures": 3}]})
        report = service.run_cycle(dead, IndexNames("gone"), rules, docs=())
    assert [f.where for f in report.failures] == ["alerting:checks", "alerting:delivery"]
    assert all(f.transient for f in report.failures)
    assert all("ConnectionError" in f.reason for f in report.failures), report.failures
    assert report.to_json()["failures"] == [f"{f.where}: {f.reason}" for f in report.failures]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("newsdrift")]


@dataclass
class Summary:
    alerts: int = 0
    errors: list[Failure] = field(default_factory=list)

    def add_error(self, failure: Failure) -> None:
        self.errors.append(failure)


def test_the_stage_reports_each_failed_step_once(opensearch_client, initialized_names, settings, tmp_path):
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        textwrap.dedent("""
        rules:
          - {name: llama, match: {any: [llama]}}
          - {name: feeds, kind: feed_health, consecutive_failures: 3}
        """)
    )
    stage = AlertingStage(settings, opensearch_client, initialized_names, rules_path=rules)
    # the feed-health check fails for real: its index refuses reads
    opensearch_client.indices.put_settings(index=initialized_names.feeds, body={"index.blocks.read": True})
    summary = Summary()
    try:
        with pass_context(summary.add_error):
            report = stage.after_pass(summary)
    finally:
        opensearch_client.indices.put_settings(index=initialized_names.feeds, body={"index.blocks.read": False})
    assert [f.where for f in report.failures] == ["alerting:checks"]
    assert [f.where for f in summary.errors] == ["alerting:checks"]  # added once, not also as a log
    assert report.to_json()["failures"] == [f"alerting:checks: {report.failures[0].reason}"]
