"""The offline demo: when no feeds are configured, run against the sample corpus on loopback."""

from __future__ import annotations

from newsdrift.errors import NewsdriftError
from newsdrift.sample import SampleServer, load_manifest
from newsdrift.sources import Feed


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
        feeds.append(Feed(url=f"{base_url.rstrip('/')}{spec['path']}", name=name, source=spec["outlet"],
                          tags=["sample", spec["format"]]))
    return feeds
