"""``newsdrift init|info|search``: the cluster's templates and indices, what they hold, full-text search."""

from __future__ import annotations

import typer
from rich.table import Table

from newsdrift.cli.support import JsonOption, cli_errors, console, emit_json
from newsdrift.settings import get_settings


@cli_errors
def init(as_json: bool = JsonOption) -> None:
    """Apply the index templates in mappings/, create missing indices, and the ISM rollover/retention policy
    where the cluster has the Index State Management plugin (idempotent)."""
    from newsdrift.store.client import connect
    from newsdrift.store.ism import apply_ism_policy
    from newsdrift.store.names import IndexNames
    from newsdrift.store.templates import apply_templates

    s = get_settings()
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


@cli_errors
def info(as_json: bool = JsonOption) -> None:
    """What exists in the cluster: engine and version, newsdrift indices and their document counts."""
    from newsdrift.store.client import connect
    from newsdrift.store.engine import engine_of
    from newsdrift.store.names import IndexNames

    s = get_settings()
    client = connect(s)
    names = IndexNames(s.index_prefix)
    engine = engine_of(client)
    rows = client.cat.indices(index=f"{names.prefix}-*", format="json", h="index,docs.count,health")
    aliases = client.cat.aliases(name=f"{names.prefix}-*", format="json", h="alias,index,is_write_index")
    data = {
        "engine": engine.name,
        "version": engine.version,
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


@cli_errors
def search(
    query: str = typer.Argument(..., help="Full-text query (simple_query_string syntax)."),
    since: str | None = typer.Option(None, help="Only articles published since, e.g. 2026-09-01 or 7d."),
    size: int = typer.Option(10, min=1, max=500),
    as_json: bool = JsonOption,
) -> None:
    """Full-text search over indexed articles."""
    from newsdrift.store.client import connect
    from newsdrift.store.names import IndexNames

    s = get_settings()
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
