"""Named exceptions: the few ways a run or a command can fail as a whole.

Our exception hierarchy::

    NewsdriftError                  base: the CLI prints ``error: <message>`` and exits 1, no traceback
    ├── ConfigError                 invalid configuration; the message names the file, entry and field
    │   └── FramesConfigError       a frames file that cannot be used (also a ``ValueError``)
    ├── ClusterUnavailable          the store cannot be reached or fails for the whole run
    ├── NodeError                   an embedded store node cannot be installed, started or stopped
    ├── DashboardsError             OpenSearch Dashboards unreachable, or the import refused as a whole
    └── AlertingError               alerting cannot do what a command asked
        └── ChannelUnavailable      a channel's URL cannot be resolved (variable unset, file unreadable)

Per-item problems (a broken feed, a hostile page, an alerting step that failed
during a pass) are not exceptions; they travel as ``records.Failure`` and end
up in the run summary.

Every ``newsdrift`` command (``newsdrift/cli/``) is wrapped in ``newsdrift.cli.support.cli_errors``,
which turns these exceptions into one ``error:`` line on stderr (markup escaped,
secrets redacted) and exit status 1; Ctrl-C exits 130.
"""


class NewsdriftError(Exception):
    """Base class; the CLI prints its message without a traceback."""


class ConfigError(NewsdriftError):
    """Invalid configuration; the message names the file, entry and field."""


class FramesConfigError(ConfigError, ValueError):
    """A frames file that cannot be used; the message names file, frame and field.

    A ``ConfigError`` (the CLI prints it as one message) and a ``ValueError`` (a value the file cannot have)."""


class ClusterUnavailable(NewsdriftError):
    """The store (OpenSearch or Elasticsearch) cannot be reached or answered with an error for the whole run."""


class NodeError(NewsdriftError):
    """An embedded store node (OpenSearch or Elasticsearch) could not be installed, started or stopped."""


class DashboardsError(NewsdriftError):
    """OpenSearch Dashboards could not be reached or refused the import as a whole."""


class AlertingError(NewsdriftError):
    """Alerting could not do what a command asked (failures during a pass are ``Failure`` records)."""


class ChannelUnavailable(AlertingError):
    """A channel's URL cannot be resolved (variable unset, file unreadable); the message has no secret."""


__all__ = [
    "AlertingError",
    "ChannelUnavailable",
    "ClusterUnavailable",
    "ConfigError",
    "DashboardsError",
    "FramesConfigError",
    "NewsdriftError",
    "NodeError",
]
