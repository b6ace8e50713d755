"""Named exceptions: the few ways a run can fail as a whole.

Per-item problems (a broken feed, a hostile page) are not exceptions; they
travel as ``records.Failure`` and end up in the run summary.
"""


class NewsdriftError(Exception):
    """Base class; the CLI prints its message without a traceback."""


class ConfigError(NewsdriftError):
    """Invalid configuration; the message names the file, entry and field."""


class ClusterUnavailable(NewsdriftError):
    """OpenSearch cannot be reached or answered with an error for the whole run."""


class NodeError(NewsdriftError):
    """The embedded OpenSearch node could not be installed, started or stopped."""
