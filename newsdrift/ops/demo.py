"""The offline demo: when no feeds are configured, run against the sample corpus on loopback.

The CLI (``newsdrift run``/``watch``), the ingest DAG and the demo runner all decide
"configured feeds, else the sample corpus" with ``configured_feeds`` and allow the
corpus' loopback addresses with ``sample_settings``: one rule, one place.
"""

from __future__ import annotations

from pathlib import Path

from newsdrift.errors import NewsdriftError
from newsdrift.feeds.catalog import Feed, enabled_feeds, load_feeds
from newsdrift.ops.sample import SampleServer, load_manifest
from newsdrift.settings import Settings

# The sample corpus has one article a day for six weeks. At the default stated rate (one false drift event in
# 500 windows) its framing shift, about 0.8 standard errors a day, is below detection within the corpus; the
# demo runs state one false event in 20 windows (``make demo`` sets NEWSDRIFT_DRIFT_FALSE_ALARM_RATE to this).
# On stable series this thin the detector fires about a third of its stated rate (bench/drift_calibration.py).
DEMO_DRIFT_FALSE_ALARM_RATE = 0.05


def configured_feeds(path: Path | str) -> list[Feed]:
    """The enabled feeds of a feed list; empty means "use the sample corpus"."""
    return enabled_feeds(load_feeds(path))


def sample_settings(settings: Settings) -> Settings:
    """Settings for polling the sample corpus: its loopback server is ours, so no SSRF guard and no throttle."""
    return settings.model_copy(update={"allow_private_networks": True, "per_host_delay": 0.0})


def start_sample_server(port: int = 0) -> SampleServer:
    """The sample corpus server on 127.0.0.1 (an ephemeral port when ``port`` is 0)."""
    try:
        return SampleServer(port=port).start()
    except OSError as exc:
        raise NewsdriftError(
            f"cannot serve the sample corpus on 127.0.0.1:{port} ({exc.strerror}); "
            "set NEWSDRIFT_SAMPLE_PORT to a free port"
        ) from None


def sample_feeds(base_url: str) -> list[Feed]:
    """Every feed of the sample corpus, named after its outlet."""
    manifest = load_manifest()
    feeds = []
    for spec in manifest["feeds"]:
        name = spec["outlet"]
        if spec["path"].count("/") > 2:  # an outlet's second feed: tell them apart
            name += f" ({spec['path'].rsplit('/', 1)[-1]})"
        feeds.append(
            Feed(
                url=f"{base_url.rstrip('/')}{spec['path']}",
                name=name,
                source=spec["outlet"],
                tags=["sample", spec["format"]],
            )
        )
    return feeds
