"""What OpenSearch Dashboards would send for a saved visualization, so tests can run it on a real node.

``visualization_query`` resolves the visualization's index pattern, turns its KQL query (the subset the
saved objects use) into a query and its aggregations into the aggregation DSL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from newsdrift.ops.dashboards import DEFAULT_PREFIX, load_saved_objects, pattern_title
from newsdrift.store.names import IndexNames

PATTERN_FAMILIES = ("articles", "drift", "alerts", "feeds")


def pattern_family(title: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The family an index pattern title stands for; ``ValueError`` when it is not ours."""
    for family in PATTERN_FAMILIES:
        if title == pattern_title(family, prefix):
            return family
    raise ValueError(f"index pattern {title!r} is not one of the {prefix}-<family>* patterns")


def by_id(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["type"], o["id"]): o for o in objects}


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def index_pattern_of(obj: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The index-pattern object a visualization or saved search reads from."""
    ref_name = search_source(obj).get("indexRefName")
    ref = next((r for r in obj.get("references", []) if r["name"] == ref_name), None)
    if ref is None or ref["type"] != "index-pattern":
        raise ValueError(f"{obj['type']} {obj['id']} has no index-pattern reference named {ref_name!r}")
    pattern = by_id(objects).get(("index-pattern", ref["id"]))
    if pattern is None:
        raise ValueError(f"{obj['type']} {obj['id']} references missing index-pattern {ref['id']}")
    return pattern


_CLAUSE = re.compile(r'^(not\s+)?([A-Za-z_][\w.]*)\s*:\s*("(?:[^"\\]|\\.)*"|[^\s"()]+)$', re.IGNORECASE)


def kql_fields(query: str) -> list[str]:
    """Fields a (supported) KQL query names."""
    return [clause["field"] for clause in _kql_clauses(query)]


def _kql_clauses(query: str) -> list[dict[str, Any]]:
    """The KQL subset the saved objects use: ``[not] field:value`` joined by ``and``."""
    query = query.strip()
    if not query:
        return []
    clauses = []
    for part in re.split(r"\s+and\s+", query, flags=re.IGNORECASE):
        match = _CLAUSE.match(part.strip())
        if not match:
            raise ValueError(f"unsupported KQL {part!r} in {query!r} (only [not] field:value joined by 'and')")
        value = match[3]
        if value.startswith('"'):
            value = json.loads(value)
        clauses.append({"negate": bool(match[1]), "field": match[2], "value": value})
    return clauses


def kql_to_query(query: str) -> dict[str, Any]:
    """OpenSearch query for the supported KQL subset (``field:*`` is an exists query)."""
    must: list[dict[str, Any]] = []
    must_not: list[dict[str, Any]] = []
    for clause in _kql_clauses(query):
        if clause["value"] == "*":
            q: dict[str, Any] = {"exists": {"field": clause["field"]}}
        else:
            q = {"match": {clause["field"]: clause["value"]}}
        (must_not if clause["negate"] else must).append(q)
    if not must and not must_not:
        return {"match_all": {}}
    return {"bool": {"filter": must, "must_not": must_not}}


_INTERVAL_UNITS = {"ms": "ms", "s": "s", "m": "m", "h": "h", "d": "d", "w": "w", "M": "M", "y": "y"}
BUCKET_AGGS = ("date_histogram", "histogram", "terms")
METRIC_AGGS = ("count", "avg", "sum", "min", "max", "cardinality", "top_hits")


def _metric_dsl(agg: dict[str, Any]) -> dict[str, Any]:
    params = agg.get("params", {})
    kind = agg["type"]
    if kind in ("avg", "sum", "min", "max", "cardinality"):
        return {kind: {"field": params["field"]}}
    if kind == "top_hits":
        return {
            "top_hits": {
                "size": int(params.get("size", 1)),
                "sort": [{params["sortField"]: {"order": params.get("sortOrder", "desc")}}],
                "_source": False,
                "docvalue_fields": [{"field": params["field"]}],
            }
        }
    raise ValueError(f"unsupported metric aggregation {kind!r}")


def _bucket_dsl(agg: dict[str, Any], metrics: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    params = agg["params"]
    kind = agg["type"]
    if kind == "date_histogram":
        interval = str(params.get("interval", "auto"))
        if interval == "auto":
            # Dashboards derives the interval from the time range; auto_date_histogram is the server-side twin.
            return {"auto_date_histogram": {"field": params["field"], "buckets": 50}}
        if interval in _INTERVAL_UNITS:
            return {
                "date_histogram": {
                    "field": params["field"],
                    "calendar_interval": f"1{interval}",
                    "min_doc_count": int(params.get("min_doc_count", 1)),
                }
            }
        return {
            "date_histogram": {
                "field": params["field"],
                "fixed_interval": interval,
                "min_doc_count": int(params.get("min_doc_count", 1)),
            }
        }
    if kind == "histogram":
        return {
            "histogram": {
                "field": params["field"],
                "interval": float(params["interval"]),
                "min_doc_count": 0 if params.get("min_doc_count") else 1,
            }
        }
    if kind == "terms":
        order_by = str(params.get("orderBy", "_key"))
        direction = params.get("order", "desc")
        body: dict[str, Any] = {"field": params["field"], "size": int(params.get("size", 10))}
        if order_by == "_key":
            body["order"] = {"_key": direction}
        elif order_by not in metrics:
            raise ValueError(f"terms {agg['id']} is ordered by {order_by!r}, which is not a metric of this vis")
        else:
            body["order"] = {"_count" if metrics[order_by] is None else order_by: direction}
        return {"terms": body}
    raise ValueError(f"unsupported bucket aggregation {kind!r}")


def aggs_to_dsl(aggs: list[dict[str, Any]]) -> dict[str, Any]:
    """Nest bucket aggregations in their saved order; metrics sit in the innermost bucket.

    A terms aggregation ordered by a metric carries that metric as its own sub-aggregation,
    as Dashboards does. ``count`` needs no aggregation (it is each bucket's ``doc_count``).
    """
    enabled = [a for a in aggs if a.get("enabled", True)]
    for agg in enabled:
        if agg["type"] not in BUCKET_AGGS + METRIC_AGGS:
            raise ValueError(f"unsupported aggregation {agg['type']!r} (id {agg['id']})")
    metrics = {a["id"]: (None if a["type"] == "count" else _metric_dsl(a)) for a in enabled if a["type"] in METRIC_AGGS}
    buckets = [a for a in enabled if a["type"] in BUCKET_AGGS]
    inner: dict[str, Any] = {agg_id: dsl for agg_id, dsl in metrics.items() if dsl is not None}
    for agg in reversed(buckets):
        dsl = _bucket_dsl(agg, metrics)
        sub = dict(inner)
        order_by = str(agg["params"].get("orderBy", ""))
        if agg["type"] == "terms" and metrics.get(order_by) is not None:
            sub[order_by] = metrics[order_by]
        if sub:
            dsl["aggs"] = sub
        inner = {agg["id"]: dsl}
    return inner


def visualization_query(
    vis: dict[str, Any],
    index_names: IndexNames,
    objects: list[dict[str, Any]] | None = None,
    time_range: tuple[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The index expression and search body Dashboards would send for a visualization.

    The index pattern is resolved through the visualization's reference and re-prefixed for
    ``index_names``; ``time_range`` (e.g. ``("now-30d", "now")``) adds the time-field filter.
    """
    objects = objects if objects is not None else load_saved_objects()
    pattern = index_pattern_of(vis, objects)
    family = pattern_family(pattern["attributes"]["title"])
    state = json.loads(vis["attributes"]["visState"])
    source = search_source(vis)
    if source.get("filter"):
        raise ValueError(f"visualization {vis['id']}: saved filters are not translated; use the KQL query")
    query = source.get("query") or {}
    if query.get("language", "kuery") != "kuery":
        raise ValueError(f"visualization {vis['id']}: only KQL queries are translated")
    clauses = [kql_to_query(str(query.get("query", "")))]
    time_field = pattern["attributes"].get("timeFieldName")
    if time_range and time_field:
        clauses.append({"range": {time_field: {"gte": time_range[0], "lte": time_range[1]}}})
    body = {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": clauses}},
        "aggs": aggs_to_dsl(state["aggs"]),
    }
    return pattern_title(family, index_names.prefix), body
