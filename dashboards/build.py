"""Generate ``dashboards/newsdrift.ndjson``: index patterns, visualizations, a saved search, dashboards.

Run ``python dashboards/build.py`` after editing this file or ``mappings/`` and commit the output;
``--check`` exits 1 when the committed file is stale. Objects use the Kibana 7.10 saved-object
shape OpenSearch Dashboards imports (JSON-string ``visState``/``searchSourceJSON``/``panelsJSON``,
``references`` by name). Field names come from ``mappings/`` (index-pattern ``fields`` are
generated from it), so the tests can check every field a visualization uses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from newsdrift.ops.dashboards import SAVED_OBJECTS_PATH, dump_saved_objects, family_fields, pattern_title

INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
PANEL_VERSION = "7.10.2"
MIGRATIONS = {"index-pattern": "7.6.0", "visualization": "7.10.0", "search": "7.9.3", "dashboard": "7.9.3"}
TIME_FIELDS = {"articles": "published_at", "drift": "window_start", "alerts": "created_at", "feeds": "updated_at"}
META_FIELDS = [
    {"name": "_id", "type": "string", "esTypes": ["_id"], "searchable": True, "aggregatable": True},
    {"name": "_index", "type": "string", "esTypes": ["_index"], "searchable": True, "aggregatable": True},
    {"name": "_score", "type": "number", "searchable": False, "aggregatable": False},
    {"name": "_source", "type": "_source", "esTypes": ["_source"], "searchable": False, "aggregatable": False},
]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def pattern_id(family: str) -> str:
    return f"newsdrift-{family}"


def index_pattern(family: str) -> dict[str, Any]:
    fields = [{**m, "count": 0, "scripted": False, "readFromDocValues": False} for m in META_FIELDS]
    fields += [f.osd_field() for f in sorted(family_fields(family).values(), key=lambda f: f.name)]
    return {
        "type": "index-pattern",
        "id": pattern_id(family),
        "attributes": {"title": pattern_title(family), "timeFieldName": TIME_FIELDS[family], "fields": _json(fields)},
        "references": [],
        "migrationVersion": {"index-pattern": MIGRATIONS["index-pattern"]},
    }


def _source(query: str) -> str:
    return _json({"query": {"query": query, "language": "kuery"}, "filter": [], "indexRefName": INDEX_REF})


def _refs(family: str) -> list[dict[str, str]]:
    return [{"name": INDEX_REF, "type": "index-pattern", "id": pattern_id(family)}]


# --- aggregations (the shapes the visualize editor saves) ---------------------------------


def count(agg_id: str = "1", label: str = "") -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "count",
        "schema": "metric",
        "params": {"customLabel": label} if label else {},
    }


def metric(agg_id: str, kind: str, field: str, label: str = "") -> dict[str, Any]:
    params: dict[str, Any] = {"field": field}
    if label:
        params["customLabel"] = label
    return {"id": agg_id, "enabled": True, "type": kind, "schema": "metric", "params": params}


def top_hit(agg_id: str, field: str, sort_field: str, label: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "top_hits",
        "schema": "metric",
        "params": {
            "field": field,
            "aggregate": "concat",
            "size": 1,
            "sortField": sort_field,
            "sortOrder": "desc",
            "customLabel": label,
        },
    }


def terms(
    agg_id: str, field: str, schema: str, size: int, order_by: str = "1", order: str = "desc", label: str = ""
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "field": field,
        "orderBy": order_by,
        "order": order,
        "size": size,
        "otherBucket": False,
        "otherBucketLabel": "Other",
        "missingBucket": False,
        "missingBucketLabel": "Missing",
    }
    if label:
        params["customLabel"] = label
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema, "params": params}


def split(agg_id: str, field: str) -> dict[str, Any]:
    """Split chart: one small chart per value (rows)."""
    agg = terms(agg_id, field, "split", 5, order_by="_key", order="asc")
    agg["params"]["row"] = True
    return agg


def date_histogram(agg_id: str, field: str, time_from: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "date_histogram",
        "schema": "segment",
        "params": {
            "field": field,
            "timeRange": {"from": time_from, "to": "now"},
            "useNormalizedOpenSearchInterval": True,
            "scaleMetricValues": False,
            "interval": "auto",
            "drop_partials": False,
            "min_doc_count": 1,
            "extended_bounds": {},
        },
    }


def histogram(agg_id: str, field: str, interval: float, label: str) -> dict[str, Any]:
    return {
        "id": agg_id,
        "enabled": True,
        "type": "histogram",
        "schema": "segment",
        "params": {
            "field": field,
            "interval": interval,
            "used_interval": interval,
            "min_doc_count": False,
            "has_extended_bounds": False,
            "extended_bounds": {},
            "customLabel": label,
        },
    }


# --- vis params ---------------------------------------------------------------------------


def xy_params(
    chart: str, y_title: str, metric_ids: list[tuple[str, str]], mode: str = "normal", horizontal: bool = False
) -> dict[str, Any]:
    """Params of the vislib line / area / bar charts; ``chart`` is line, area or histogram."""
    category_axis = {
        "id": "CategoryAxis-1",
        "type": "category",
        "position": "left" if horizontal else "bottom",
        "show": True,
        "style": {},
        "scale": {"type": "linear"},
        "labels": {
            "show": True,
            "filter": not horizontal,
            "truncate": 200 if horizontal else 100,
            **({"rotate": 0} if horizontal else {}),
        },
        "title": {},
    }
    value_axis = {
        "id": "ValueAxis-1",
        "name": "LeftAxis-1",
        "type": "value",
        "position": "bottom" if horizontal else "left",
        "show": True,
        "style": {},
        "scale": {"type": "linear", "mode": "normal"},
        "labels": {"show": True, "rotate": 75 if horizontal else 0, "filter": horizontal, "truncate": 100},
        "title": {"text": y_title},
    }
    series = [
        {
            "show": True,
            "type": chart,
            "mode": mode,
            "data": {"label": label, "id": agg_id},
            "valueAxis": "ValueAxis-1",
            "drawLinesBetweenPoints": True,
            "lineWidth": 2,
            "interpolate": "linear",
            "showCircles": True,
        }
        for agg_id, label in metric_ids
    ]
    return {
        "type": chart,
        "grid": {"categoryLines": False},
        "categoryAxes": [category_axis],
        "valueAxes": [value_axis],
        "seriesParams": series,
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "labels": {},
        "thresholdLine": {"show": False, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
    }


def table_params(per_page: int = 10) -> dict[str, Any]:
    return {
        "perPage": per_page,
        "showPartialRows": False,
        "showMetricsAtAllLevels": False,
        "showTotal": False,
        "totalFunc": "sum",
        "percentageCol": "",
    }


def pie_params() -> dict[str, Any]:
    return {
        "type": "pie",
        "addTooltip": True,
        "addLegend": True,
        "legendPosition": "right",
        "isDonut": True,
        "labels": {"show": False, "values": True, "last_level": True, "truncate": 100},
    }


def visualization(
    vis_id: str,
    title: str,
    family: str,
    vis_type: str,
    aggs: list[dict[str, Any]],
    params: dict[str, Any],
    description: str,
    query: str = "",
) -> dict[str, Any]:
    splits = [a for a in aggs if a["schema"] == "split"]
    if splits:
        # Dashboards and Kibana lay a split chart out in rows or columns from the vis params, not the agg's
        params = {**params, "row": bool(splits[0]["params"].get("row", False))}
    state = {"title": title, "type": vis_type, "aggs": aggs, "params": params}
    return {
        "type": "visualization",
        "id": vis_id,
        "attributes": {
            "title": title,
            "description": description,
            "version": 1,
            "visState": _json(state),
            "uiStateJSON": "{}",
            "kibanaSavedObjectMeta": {"searchSourceJSON": _source(query)},
        },
        "references": _refs(family),
        "migrationVersion": {"visualization": MIGRATIONS["visualization"]},
    }


def saved_search(
    search_id: str,
    title: str,
    family: str,
    columns: list[str],
    sort: list[list[str]],
    description: str,
    query: str = "",
) -> dict[str, Any]:
    return {
        "type": "search",
        "id": search_id,
        "attributes": {
            "title": title,
            "description": description,
            "hits": 0,
            "columns": columns,
            "sort": sort,
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _source(query)},
        },
        "references": _refs(family),
        "migrationVersion": {"search": MIGRATIONS["search"]},
    }


def dashboard(
    dash_id: str, title: str, description: str, time_from: str, panels: list[tuple[dict[str, Any], int, int, int, int]]
) -> dict[str, Any]:
    """``panels``: (saved object, x, y, w, h) on the 48-column grid."""
    entries, refs = [], []
    for n, (obj, x, y, w, h) in enumerate(panels):
        index = str(n + 1)
        entries.append(
            {
                "embeddableConfig": {},
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                "panelIndex": index,
                "version": PANEL_VERSION,
                "panelRefName": f"panel_{n}",
            }
        )
        refs.append({"name": f"panel_{n}", "type": obj["type"], "id": obj["id"]})
    return {
        "type": "dashboard",
        "id": dash_id,
        "attributes": {
            "title": title,
            "description": description,
            "hits": 0,
            "version": 1,
            "panelsJSON": _json(entries),
            "optionsJSON": _json({"hidePanelTitles": False, "useMargins": True}),
            "timeRestore": True,
            "timeFrom": time_from,
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 300000},
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": _json({"query": {"query": "", "language": "kuery"}, "filter": []})
            },
        },
        "references": refs,
        "migrationVersion": {"dashboard": MIGRATIONS["dashboard"]},
    }


# --- the objects -----------------------------------------------------------------------------

COVERAGE_FROM, DRIFT_FROM, HEALTH_FROM = "now-30d", "now-90d", "now-7d"


def build() -> list[dict[str, Any]]:
    patterns = {family: index_pattern(family) for family in TIME_FIELDS}

    # Coverage (articles)
    over_time = visualization(
        "newsdrift-articles-over-time",
        "Articles over time by source",
        "articles",
        "histogram",
        [count(), date_histogram("2", "published_at", COVERAGE_FROM), terms("3", "source", "group", 10)],
        xy_params("histogram", "Articles", [("1", "Articles")], mode="stacked"),
        "Articles per publication date, stacked by outlet (top 10).",
    )
    top_sources = visualization(
        "newsdrift-top-sources",
        "Top sources",
        "articles",
        "horizontal_bar",
        [count(), terms("2", "source", "segment", 15, label="Source")],
        xy_params("histogram", "Articles", [("1", "Articles")], horizontal=True),
        "Outlets with the most articles in the time range.",
    )
    languages = visualization(
        "newsdrift-languages",
        "Languages",
        "articles",
        "pie",
        [count(), terms("2", "language", "segment", 10)],
        pie_params(),
        "Share of articles per detected language.",
    )
    relevance = visualization(
        "newsdrift-topic-relevance",
        "Topic relevance",
        "articles",
        "histogram",
        [count(), histogram("2", "topic_relevance", 0.1, "Topic relevance")],
        xy_params("histogram", "Articles", [("1", "Articles")]),
        "Distribution of the topic relevance score (off-topic articles included).",
    )
    clusters = visualization(
        "newsdrift-story-clusters",
        "Largest story clusters",
        "articles",
        "table",
        [
            count("1", "Articles"),
            terms("2", "story_cluster_id", "bucket", 15, label="Story cluster"),
            metric("3", "max", "cluster_size", "Cluster size"),
            metric("4", "cardinality", "source", "Outlets"),
            top_hit("5", "title.raw", "published_at", "Latest headline"),
        ],
        table_params(),
        "Story clusters with the most articles: size, outlets and the latest headline.",
    )
    duplicates = visualization(
        "newsdrift-duplicate-kinds",
        "Duplicates by kind",
        "articles",
        "pie",
        [count(), terms("2", "duplicate_kind", "segment", 5)],
        pie_params(),
        "Articles recognised as copies of another article, by kind.",
        query="duplicate_kind:*",
    )

    # Narrative drift (drift: kind = window / frame / term / event)
    divergence = visualization(
        "newsdrift-divergence-over-time",
        "Divergence from the baseline",
        "drift",
        "line",
        [
            metric("1", "avg", "js_divergence", "JS divergence"),
            metric("2", "avg", "frame_shift", "Frame shift"),
            date_histogram("3", "window_start", DRIFT_FROM),
            terms("4", "window", "group", 5, order_by="_key", order="asc", label="Window"),
        ],
        xy_params("line", "Divergence (0-1)", [("1", "JS divergence"), ("2", "Frame shift")]),
        "Jensen-Shannon divergence of the vocabulary and total-variation shift of the frame shares, per window size.",
        query="kind:window",
    )
    frames = visualization(
        "newsdrift-frame-shares",
        "Frame shares over time",
        "drift",
        "line",
        [
            metric("1", "avg", "share", "Share"),
            split("2", "window"),
            date_histogram("3", "window_start", DRIFT_FROM),
            terms("4", "frame", "group", 10, label="Frame"),
        ],
        xy_params("line", "Share of articles", [("1", "Share")]),
        "Share of articles per frame in each window; one chart per window size.",
        query="kind:frame",
    )
    emerging = visualization(
        "newsdrift-emerging-terms",
        "Emerging terms",
        "drift",
        "table",
        [
            metric("1", "max", "keyness", "Keyness"),
            terms("2", "window", "bucket", 5, order_by="_key", order="asc", label="Window"),
            terms("3", "term", "bucket", 25, label="Term"),
            metric("4", "max", "log_ratio", "Log ratio"),
            metric("5", "sum", "count", "Mentions"),
            count("6", "Windows"),
        ],
        table_params(15),
        "Terms over-represented against the baseline, strongest first, per window size.",
        query="kind:term",
    )
    events = visualization(
        "newsdrift-drift-events",
        "Drift events",
        "drift",
        "table",
        [
            count("1", "Events"),
            terms("2", "metric", "bucket", 10, label="Metric"),
            metric("3", "max", "value", "Highest value"),
            metric("4", "max", "threshold", "Threshold"),
            metric("5", "max", "consecutive_windows", "Consecutive windows"),
        ],
        table_params(),
        "Drift events per metric: how often, how far over the threshold.",
        query="kind:event",
    )

    # Pipeline health (feeds, alerts)
    feed_health = visualization(
        "newsdrift-feed-health",
        "Feed health",
        "feeds",
        "table",
        [
            metric("1", "max", "consecutive_failures", "Consecutive failures"),
            terms("2", "name", "bucket", 200, label="Feed"),
            terms("3", "health", "bucket", 5, label="Health"),
            metric("4", "max", "last_success_at", "Last success"),
            metric("5", "max", "last_polled_at", "Last poll"),
            metric("6", "sum", "articles_indexed", "Articles indexed"),
        ],
        table_params(20),
        "Every feed with its health, failing feeds first.",
    )
    feeds_by_health = visualization(
        "newsdrift-feeds-by-health",
        "Feeds by health",
        "feeds",
        "pie",
        [count("1", "Feeds"), terms("2", "health", "segment", 5)],
        pie_params(),
        "How many feeds are in each state.",
    )
    alert_table = visualization(
        "newsdrift-recent-alerts",
        "Alerts by rule",
        "alerts",
        "table",
        [
            count("1", "Alerts"),
            terms("2", "rule_name", "bucket", 20, label="Rule"),
            terms("3", "kind", "bucket", 5, label="Kind"),
            metric("4", "max", "created_at", "Latest"),
        ],
        table_params(),
        "Alerts raised per rule and kind in the time range.",
    )
    delivery = visualization(
        "newsdrift-alert-delivery",
        "Alert delivery state",
        "alerts",
        "pie",
        [count("1", "Alerts"), terms("2", "delivery_state", "segment", 5)],
        pie_params(),
        "Whether alerts reached their channels.",
    )
    alert_search = saved_search(
        "newsdrift-alerts-search",
        "Recent alerts",
        "alerts",
        ["title", "rule_name", "kind", "source", "delivery_state"],
        [["created_at", "desc"]],
        "The latest alerts, newest first.",
    )

    dashboards = [
        dashboard(
            "newsdrift-coverage",
            "newsdrift: Coverage",
            "What the press publishes about open-source AI: volume, outlets, languages, stories.",
            COVERAGE_FROM,
            [
                (over_time, 0, 0, 48, 15),
                (top_sources, 0, 15, 24, 15),
                (languages, 24, 15, 12, 15),
                (duplicates, 36, 15, 12, 15),
                (relevance, 0, 30, 16, 15),
                (clusters, 16, 30, 32, 15),
            ],
        ),
        dashboard(
            "newsdrift-narrative-drift",
            "newsdrift: Narrative drift",
            "How coverage moves away from the baseline: divergence, frames, emerging terms, events.",
            DRIFT_FROM,
            [(divergence, 0, 0, 48, 15), (frames, 0, 15, 48, 15), (emerging, 0, 30, 24, 18), (events, 24, 30, 24, 18)],
        ),
        dashboard(
            "newsdrift-pipeline-health",
            "newsdrift: Pipeline health",
            "Feeds that fail, and the alerts the pipeline raised and delivered.",
            HEALTH_FROM,
            [
                (feed_health, 0, 0, 32, 18),
                (feeds_by_health, 32, 0, 16, 18),
                (alert_table, 0, 18, 24, 15),
                (delivery, 24, 18, 24, 15),
                (alert_search, 0, 33, 48, 18),
            ],
        ),
    ]
    visualizations = [
        over_time,
        top_sources,
        languages,
        relevance,
        clusters,
        duplicates,
        divergence,
        frames,
        emerging,
        events,
        feed_health,
        feeds_by_health,
        alert_table,
        delivery,
    ]
    return [*patterns.values(), alert_search, *visualizations, *dashboards]


def main(argv: list[str]) -> int:
    text = dump_saved_objects(build())
    target = Path(SAVED_OBJECTS_PATH)
    if "--check" in argv:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python dashboards/build.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({text.count(chr(10))} objects)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
