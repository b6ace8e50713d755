"""Which Python clients can talk to an Elasticsearch node: the evidence behind newsdrift's one client.

Runs the same four calls (info, index, search, delete index) with opensearch-py (newsdrift's client)
and, when it is installed, the official ``elasticsearch`` client, and prints one line per call.
newsdrift does not depend on ``elasticsearch``; try a version in a throwaway virtualenv::

    python3 -m venv /tmp/es713 && /tmp/es713/bin/pip install -q "elasticsearch==7.13.4" opensearch-py
    /tmp/es713/bin/python scripts/es_client_probe.py http://127.0.0.1:9211

(start the node first: ``newsdrift node start --engine elasticsearch``). The figures in the README's
Elasticsearch section come from this script with 7.13.4, 7.17.12 and 8.15.1 against 7.10.2.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from typing import Any


def probe(name: str, client: Any, index_call: Callable[[str], Any]) -> list[tuple[str, str]]:
    index = f"probe-{uuid.uuid4().hex[:8]}"
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("info", lambda: client.info()["version"]["number"]),
        ("index", lambda: index_call(index)["result"]),
        ("search", lambda: client.search(index=index)["hits"]["total"]),
        ("delete", lambda: client.indices.delete(index=index)["acknowledged"]),
    ]
    lines = []
    for call, run in calls:
        try:
            lines.append((call, f"ok: {run()}"))
        except Exception as exc:  # noqa: BLE001 - the point is to report whatever each client raises
            lines.append((call, f"FAILED {type(exc).__name__}: {str(exc)[:160]}"))
    for call, outcome in lines:
        print(f"{name:<28} {call:<7} {outcome}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="Elasticsearch base URL, e.g. http://127.0.0.1:9211")
    url = parser.parse_args().url
    failures = 0
    try:
        from opensearchpy import OpenSearch
        from opensearchpy import __versionstr__ as os_version
    except ImportError:
        print("opensearch-py not installed")
    else:
        client = OpenSearch(url)
        result = probe(
            f"opensearch-py {os_version}", client, lambda i: client.index(index=i, id="1", body={"a": 1}, refresh=True)
        )
        failures += sum(o.startswith("FAILED") for _, o in result)
    try:
        import elasticsearch
        from elasticsearch import Elasticsearch
    except ImportError:
        print("elasticsearch (official client) not installed")
        return 0
    es = Elasticsearch(url)
    major = elasticsearch.__version__[0]

    def index_doc(index: str) -> Any:
        if major >= 8:
            return es.index(index=index, id="1", document={"a": 1}, refresh=True)
        return es.index(index=index, id="1", body={"a": 1}, refresh=True)

    probe(f"elasticsearch {elasticsearch.__versionstr__}", es, index_doc)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
