"""Dashboards saved objects: shape, references, fields against mappings/, the import command
against a loopback HTTP server, and every visualization's aggregation on the real node."""

from __future__ import annotations

import base64
import importlib.util
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import typer
from typer.testing import CliRunner

from newsdrift.cli.dashboards import dashboards_app
from newsdrift.ops.dashboards import (
    AGGREGATABLE_TYPES,
    SAVED_OBJECTS_PATH,
    DashboardsError,
    dump_saved_objects,
    export_saved_objects,
    family_fields,
    for_flavor,
    import_dashboards,
    load_saved_objects,
    opensearch_only_keys,
    with_prefix,
)
from newsdrift.records import stable_id
from newsdrift.settings import PROJECT_ROOT
from newsdrift.store.bulk import bulk_write, write_actions
from newsdrift.store.names import IndexNames
from tests.support.dashboards_query import (
    index_pattern_of,
    kql_fields,
    pattern_family,
    search_source,
    visualization_query,
)

OBJECTS = load_saved_objects()
BY_KEY = {(o["type"], o["id"]): o for o in OBJECTS}
VISUALIZATIONS = [o for o in OBJECTS if o["type"] == "visualization"]
DASHBOARDS = [o for o in OBJECTS if o["type"] == "dashboard"]

# Attributes OpenSearch Dashboards maps for each type (src/plugins/*/server/saved_objects/*.ts);
# the .kibana index is strict, so anything else would fail the import. index-pattern is dynamic: false.
OSD_ATTRIBUTES = {
    "visualization": {
        "description",
        "kibanaSavedObjectMeta",
        "savedSearchRefName",
        "title",
        "uiStateJSON",
        "version",
        "visState",
    },
    "search": {"columns", "description", "hits", "kibanaSavedObjectMeta", "sort", "columnWidths", "title", "version"},
    "dashboard": {
        "description",
        "hits",
        "kibanaSavedObjectMeta",
        "optionsJSON",
        "panelsJSON",
        "refreshInterval",
        "timeFrom",
        "timeRestore",
        "timeTo",
        "title",
        "version",
    },
}
MIGRATION_VERSIONS = {"index-pattern": "7.6.0", "visualization": "7.10.0", "search": "7.9.3", "dashboard": "7.9.3"}


def vis_state(vis: dict[str, Any]) -> dict[str, Any]:
    return json.loads(vis["attributes"]["visState"])


def family_of(obj: dict[str, Any]) -> str:
    return pattern_family(index_pattern_of(obj, OBJECTS)["attributes"]["title"])


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(dashboard["attributes"]["panelsJSON"])


def dashboard_of(obj: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in DASHBOARDS if any(r["id"] == obj["id"] for r in d["references"]))


# --- the file itself -------------------------------------------------------------------------


def test_committed_ndjson_is_what_build_py_generates():
    spec = importlib.util.spec_from_file_location("dashboards_build", PROJECT_ROOT / "dashboards" / "build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert dump_saved_objects(build.build()) == SAVED_OBJECTS_PATH.read_text(encoding="utf-8"), (
        "dashboards/newsdrift.ndjson is stale: run python dashboards/build.py"
    )


def test_every_object_parses_in_the_shape_dashboards_imports():
    lines = [line for line in SAVED_OBJECTS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(OBJECTS) and len(BY_KEY) == len(OBJECTS), "one object per line, unique (type, id)"
    for obj in OBJECTS:
        where = f"{obj.get('type')} {obj.get('id')}"
        assert set(obj) == {"type", "id", "attributes", "references", "migrationVersion"}, where
        assert obj["migrationVersion"] == {obj["type"]: MIGRATION_VERSIONS[obj["type"]]}, where
        attrs = obj["attributes"]
        assert attrs["title"].strip(), where
        if obj["type"] in OSD_ATTRIBUTES:
            unmapped = set(attrs) - OSD_ATTRIBUTES[obj["type"]]
            assert not unmapped, f"{where}: attributes Dashboards does not map: {unmapped}"
            source = search_source(obj)  # a JSON string
            assert source["filter"] == [] and source["query"]["language"] == "kuery", where
        if obj["type"] == "index-pattern":
            assert isinstance(json.loads(attrs["fields"]), list), where
        if obj["type"] == "visualization":
            state = vis_state(obj)
            assert state["title"] == attrs["title"] and state["aggs"] and isinstance(state["params"], dict), where
            assert json.loads(attrs["uiStateJSON"]) == {}, where
            assert [a["id"] for a in state["aggs"]] == sorted({a["id"] for a in state["aggs"]}, key=int), where
        if obj["type"] in ("visualization", "search"):
            assert search_source(obj)["indexRefName"] == "kibanaSavedObjectMeta.searchSourceJSON.index", where
        if obj["type"] == "dashboard":
            assert json.loads(attrs["optionsJSON"])["useMargins"] is True, where
            assert attrs["timeRestore"] is True and attrs["timeFrom"].startswith("now-"), where


def test_split_charts_say_rows_where_dashboards_reads_it():
    # Dashboards and Kibana pick the split layout from visState.params.row (split_row vs split_column
    # in their build pipeline); the agg's own ``row`` only drives the editor's toggle.
    split_charts = {}
    for obj in OBJECTS:
        if obj["type"] == "visualization":
            state = vis_state(obj)
            splits = [a for a in state["aggs"] if a["schema"] == "split"]
            if splits:
                split_charts[obj["attributes"]["title"]] = (state["params"].get("row"), splits[0]["params"].get("row"))
    assert split_charts == {"Frame shares over time": (True, True)}


def test_every_reference_resolves_to_an_object_in_the_file():
    for obj in OBJECTS:
        names = [r["name"] for r in obj["references"]]
        assert len(names) == len(set(names)), f"{obj['id']}: duplicate reference names"
        for ref in obj["references"]:
            assert set(ref) == {"name", "type", "id"}
            assert (ref["type"], ref["id"]) in BY_KEY, f"{obj['type']} {obj['id']} -> missing {ref}"
        if obj["type"] in ("visualization", "search"):
            index_ref = search_source(obj)["indexRefName"]
            assert [r for r in obj["references"] if r["name"] == index_ref][0]["type"] == "index-pattern"
    for dash in DASHBOARDS:
        refs = {r["name"]: r for r in dash["references"]}
        entries = panels(dash)
        assert {p["panelRefName"] for p in entries} == set(refs), dash["id"]
        assert len({p["panelIndex"] for p in entries}) == len(entries)
        cells: set[tuple[int, int]] = set()
        for p in entries:
            grid = p["gridData"]
            assert grid["i"] == p["panelIndex"] and grid["x"] >= 0 and grid["x"] + grid["w"] <= 48, p
            own = {
                (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert not own & cells, f"{dash['id']}: panel {p['panelIndex']} overlaps another"
            cells |= own
            assert refs[p["panelRefName"]]["type"] in ("visualization", "search")


def test_dashboards_and_index_patterns_cover_the_brief():
    patterns = {
        o["attributes"]["title"]: o["attributes"]["timeFieldName"] for o in OBJECTS if o["type"] == "index-pattern"
    }
    assert patterns == {
        "newsdrift-articles*": "published_at",
        "newsdrift-drift*": "window_start",
        "newsdrift-alerts*": "created_at",
        "newsdrift-feeds*": "updated_at",
    }
    for title, time_field in patterns.items():
        assert family_fields(pattern_family(title))[time_field].es_type == "date"
    titles = {d["attributes"]["title"] for d in DASHBOARDS}
    assert titles == {"newsdrift: Coverage", "newsdrift: Narrative drift", "newsdrift: Pipeline health"}
    on_a_dashboard = {r["id"] for d in DASHBOARDS for r in d["references"]}
    assert {v["id"] for v in VISUALIZATIONS} <= on_a_dashboard
    drift_queries = {search_source(v)["query"]["query"] for v in VISUALIZATIONS if family_of(v) == "drift"}
    assert drift_queries == {"kind:window", "kind:frame", "kind:term", "kind:event"}


# --- fields against mappings/ --------------------------------------------------------------


def agg_fields(vis: dict[str, Any]) -> list[str]:
    used = []
    for agg in vis_state(vis)["aggs"]:
        params = agg.get("params", {})
        used += [params[key] for key in ("field", "sortField") if key in params]
    return used


def test_every_visualization_field_exists_and_is_aggregatable_in_its_family():
    for vis in VISUALIZATIONS:
        family = family_of(vis)
        catalogue = family_fields(family)
        pattern_fields = {f["name"]: f for f in json.loads(index_pattern_of(vis, OBJECTS)["attributes"]["fields"])}
        for name in agg_fields(vis):
            where = f"{vis['id']} ({family}): {name}"
            assert name in catalogue, f"{where} is not in mappings/"
            info = catalogue[name]
            assert info.es_type in AGGREGATABLE_TYPES and info.es_type != "text", f"{where} is {info.es_type}"
            assert info.aggregatable and info.nested_path is None, where
            assert pattern_fields[name]["aggregatable"] is True, where
        for name in kql_fields(search_source(vis)["query"]["query"]):
            assert name in catalogue and catalogue[name].searchable, f"{vis['id']}: query field {name}"
    for search in (o for o in OBJECTS if o["type"] == "search"):
        catalogue = family_fields(family_of(search))
        assert set(search["attributes"]["columns"]) <= set(catalogue)
        for sort_field, direction in search["attributes"]["sort"]:
            assert catalogue[sort_field].aggregatable and direction in ("asc", "desc")


def test_index_pattern_fields_match_the_real_field_caps(opensearch_client, initialized_names):
    for pattern in (o for o in OBJECTS if o["type"] == "index-pattern"):
        family = pattern_family(pattern["attributes"]["title"])
        caps = opensearch_client.field_caps(index=f"{initialized_names.prefix}-{family}*", fields="*")["fields"]
        ours = {f["name"]: f for f in json.loads(pattern["attributes"]["fields"])}
        real = {name: next(iter(types.items())) for name, types in caps.items()}
        real = {name: kv for name, kv in real.items() if kv[0] not in ("object", "nested")}
        assert {n for n in real if not n.startswith("_")} == {n for n in ours if not n.startswith("_")}, family
        for name, spec in ours.items():
            if name in ("_score", "_source"):
                continue  # Dashboards adds these itself; field_caps does not list them
            es_type, info = real[name]
            assert spec.get("esTypes", [es_type]) == [es_type], f"{family}.{name}"
            assert (spec["searchable"], spec["aggregatable"]) == (info["searchable"], info["aggregatable"]), name


def test_prefix_rewrites_only_index_pattern_titles():
    renamed = with_prefix(OBJECTS, "acme")
    assert {o["attributes"]["title"] for o in renamed if o["type"] == "index-pattern"} == {
        "acme-articles*",
        "acme-drift*",
        "acme-alerts*",
        "acme-feeds*",
    }
    assert [(o["type"], o["id"]) for o in renamed] == [(o["type"], o["id"]) for o in OBJECTS]
    assert [o for o in renamed if o["type"] != "index-pattern"] == [o for o in OBJECTS if o["type"] != "index-pattern"]


# --- the import command against a loopback HTTP server -----------------------------------


@dataclass
class Upload:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    filename: str
    content: str


@dataclass
class SavedObjectsServer:
    """A loopback stand-in for the import route: checks the request the way OpenSearch Dashboards
    does (osd-xsrf, basic auth, multipart ``file`` named *.ndjson, references) and answers with
    its response shape. ``stored`` persists between imports, so a re-import reports overwrites."""

    credentials: tuple[str, str] | None = None
    starting: int = 0  # answer 503 this many times first
    html: bool = False  # answer 200 text/html, like a login page in front of Dashboards
    xsrf: str = "osd-xsrf"  # the header the product insists on (Kibana: kbn-xsrf)
    uploads: list[Upload] = field(default_factory=list)
    stored: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any] | str]:
        parts = urlsplit(handler.path)
        if parts.path != "/api/saved_objects/_import":
            return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        if self.starting > 0:
            self.starting -= 1
            return 503, {
                "statusCode": 503,
                "error": "Service Unavailable",
                "message": "OpenSearch Dashboards server is not ready yet",
            }
        if self.credentials is not None:
            expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
            if handler.headers.get("Authorization") != expected:
                return 401, {"statusCode": 401, "error": "Unauthorized", "message": "Authentication Exception"}
        if self.html:
            return 200, "<html><body>Please log in</body></html>"
        if self.xsrf not in {k.lower() for k in handler.headers}:
            return 400, {
                "statusCode": 400,
                "error": "Bad Request",
                "message": f"Request must contain a {self.xsrf} header.",
            }
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        content_type = handler.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data; boundary="):
            return 415, {"statusCode": 415, "error": "Unsupported Media Type", "message": content_type}
        message = BytesParser(policy=policy.default).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        files = [p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
        if len(files) != 1:
            return 400, {"statusCode": 400, "error": "Bad Request", "message": "expected one form field named file"}
        filename = files[0].get_filename() or ""
        if not filename.endswith(".ndjson"):
            return 400, {
                "statusCode": 400,
                "error": "Bad Request",
                "message": f"Invalid file extension {Path(filename).suffix}",
            }
        content = files[0].get_payload(decode=True).decode("utf-8")
        query = parse_qs(parts.query)
        self.uploads.append(Upload(handler.command, parts.path, query, dict(handler.headers), filename, content))
        return 200, self.import_objects(content, query.get("overwrite") == ["true"])

    def import_objects(self, content: str, overwrite: bool) -> dict[str, Any]:
        objects = [json.loads(line) for line in content.splitlines() if line.strip()]
        keys = {(o["type"], o["id"]) for o in objects} | set(self.stored)
        results, errors = [], []
        for obj in objects:
            key = (obj["type"], obj["id"])
            meta = {"title": obj["attributes"].get("title"), "icon": f"{obj['type']}App"}
            missing = [
                {"type": r["type"], "id": r["id"]}
                for r in obj.get("references", [])
                if (r["type"], r["id"]) not in keys
            ]
            if missing:
                errors.append(
                    {
                        "id": obj["id"],
                        "type": obj["type"],
                        "title": meta["title"],
                        "meta": meta,
                        "error": {"type": "missing_references", "references": missing},
                    }
                )
            elif key in self.stored and not overwrite:
                errors.append(
                    {
                        "id": obj["id"],
                        "type": obj["type"],
                        "title": meta["title"],
                        "meta": meta,
                        "error": {"type": "conflict"},
                    }
                )
            else:
                results.append(
                    {
                        "type": obj["type"],
                        "id": obj["id"],
                        "meta": meta,
                        **({"overwrite": True} if key in self.stored else {}),
                    }
                )
        for obj in objects:
            if any(r["id"] == obj["id"] and r["type"] == obj["type"] for r in results):
                self.stored[(obj["type"], obj["id"])] = obj
        response: dict[str, Any] = {"successCount": len(results), "success": not errors}
        if results:
            response["successResults"] = results
        if errors:
            response["errors"] = errors
        return response


@pytest.fixture
def dashboards_server() -> Iterator[SavedObjectsServer]:
    state = SavedObjectsServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            status, payload = state.answer(self)
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def newsdrift_cli() -> typer.Typer:
    """The ``newsdrift`` root with the dashboards group, registered as newsdrift/cli/__init__.py does."""
    root = typer.Typer(name="newsdrift")
    root.add_typer(dashboards_app, name="dashboards")
    return root


def run_import(*args: str) -> Any:
    unset = ("URL", "USER", "PASSWORD", "TENANT", "VERIFY_CERTS", "CA_CERTS")
    return CliRunner().invoke(
        newsdrift_cli(), ["dashboards", "import", *args], env={f"NEWSDRIFT_DASHBOARDS_{name}": None for name in unset}
    )


def test_cli_import_sends_the_ndjson_as_multipart_with_xsrf_and_basic_auth(dashboards_server):
    dashboards_server.credentials = ("admin", "s3cret-Pw!")
    first = run_import(
        "--url", dashboards_server.url, "--user", "admin", "--password", "s3cret-Pw!", "--prefix", "acme", "--json"
    )
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["success"], report["success_count"], report["errors"]) == (True, len(OBJECTS), [])
    assert {(o["type"], o["id"]) for o in report["created"]} == set(BY_KEY) and report["overwritten"] == []

    [upload] = dashboards_server.uploads
    assert (upload.method, upload.path, upload.query) == ("POST", "/api/saved_objects/_import", {"overwrite": ["true"]})
    assert {k.lower(): v for k, v in upload.headers.items()}["osd-xsrf"] == "true"
    assert upload.filename.endswith(".ndjson")
    assert upload.content == dump_saved_objects(with_prefix(OBJECTS, "acme"))

    assert "securitytenant" not in {k.lower() for k in upload.headers}

    second = run_import(
        "--url",
        dashboards_server.url + "/",
        "--user",
        "admin",
        "--password",
        "s3cret-Pw!",
        "--prefix",
        "acme",
        "--tenant",
        "global",
    )
    assert second.exit_code == 0, second.output
    assert f"0 created, {len(OBJECTS)} overwritten, 0 failed" in second.stdout
    assert {k.lower(): v for k, v in dashboards_server.uploads[-1].headers.items()}["securitytenant"] == "global"


def test_import_without_overwrite_reports_conflicts(dashboards_server):
    assert import_dashboards(dashboards_server.url).success
    report = import_dashboards(dashboards_server.url, overwrite=False)
    assert dashboards_server.uploads[-1].query == {}
    assert not report.success and report.success_count == 0
    assert {e.error for e in report.errors} == {"conflict"} and len(report.errors) == len(OBJECTS)


def test_import_reports_objects_with_missing_references(dashboards_server, tmp_path: Path):
    partial = [o for o in OBJECTS if (o["type"], o["id"]) != ("index-pattern", "newsdrift-feeds")]
    path = tmp_path / "partial.ndjson"
    path.write_text(dump_saved_objects(partial), encoding="utf-8")
    result = run_import("--url", dashboards_server.url, "--file", str(path), "--prefix", "newsdrift", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    feed_vis = {v["id"] for v in VISUALIZATIONS if family_of(v) == "feeds"}
    assert report["success"] is False and report["success_count"] == len(partial) - len(feed_vis)
    assert {(e["id"], e["error"], e["detail"]) for e in report["errors"]} == {
        (vis_id, "missing_references", "index-pattern:newsdrift-feeds") for vis_id in feed_vis
    }
    table = run_import("--url", dashboards_server.url, "--file", str(path), "--prefix", "newsdrift")
    assert table.exit_code == 1 and f"{len(feed_vis)} failed" in table.stdout


def test_import_errors_are_clear(dashboards_server):
    dashboards_server.credentials = ("admin", "right")
    with pytest.raises(DashboardsError, match=r"401 Unauthorized\); it needs credentials"):
        import_dashboards(dashboards_server.url)
    with pytest.raises(DashboardsError, match=r"401 Unauthorized\); check --user/--password"):
        import_dashboards(dashboards_server.url, user="admin", password="wrong")
    dashboards_server.html = True
    with pytest.raises(DashboardsError, match="text/html, not JSON"):
        import_dashboards(dashboards_server.url, user="admin", password="right")
    with socket.socket() as sock:  # a port nothing listens on (bound, then released)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DashboardsError, match=f"127.0.0.1:{port} is unreachable"):
        import_dashboards(f"http://127.0.0.1:{port}")
    with pytest.raises(DashboardsError) as info:
        import_dashboards(f"http://admin:hunter2@127.0.0.1:{port}")
    assert "hunter2" not in str(info.value) and "unreachable" in str(info.value)
    result = run_import("--url", f"http://127.0.0.1:{port}", "--prefix", "newsdrift")
    assert result.exit_code == 1 and "unreachable" in result.stderr and "Traceback" not in result.output
    with pytest.raises(DashboardsError, match="must start with http"):
        import_dashboards("opensearch-dashboards:5601")
    assert dashboards_server.uploads == []


def test_import_waits_while_dashboards_starts(dashboards_server):
    dashboards_server.starting = 2
    with pytest.raises(DashboardsError, match="answered 503: OpenSearch Dashboards server is not ready yet"):
        import_dashboards(dashboards_server.url)
    report = import_dashboards(dashboards_server.url, wait=20)
    assert report.success and len(report.created) == len(OBJECTS)


# --- every visualization on the real node ------------------------------------------------


def sample_corpus(now: datetime) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """A small, realistic corpus for every index family, dated in the last days."""

    def ts(hours: float) -> str:
        return (now - timedelta(hours=hours)).isoformat()

    outlets = [("Reuters", "en"), ("The Verge", "en"), ("heise online", "de"), ("Le Monde", "fr"), ("TechCrunch", "en")]
    stories = [
        ("llama-4-release", "Meta releases Llama 4 with open weights", 6),
        ("eu-ai-act-open-source", "EU AI Act exemptions for open-source models", 4),
        ("deepseek-cost", "DeepSeek's cheap training run rattles US labs", 3),
    ]
    articles = []
    for n, (cluster, headline, size) in enumerate(stories):
        for copy in range(size):
            source, language = outlets[(n + copy) % len(outlets)]
            url = f"https://news.example/{cluster}/{copy}"
            doc = {
                "article_id": stable_id(url),
                "url": url,
                "canonical_url": url,
                "source": source,
                "feed_name": f"{source} tech",
                "title": f"{headline} ({source})",
                "language": language,
                "text": f"{headline}. " * 40,
                "published_at": ts(6 + 20 * n + copy),
                "fetched_at": ts(5 + 20 * n),
                "indexed_at": ts(5 + 20 * n),
                "word_count": 240 + copy,
                "topic_relevance": 0.45 + 0.08 * copy,
                "off_topic": False,
                "story_cluster_id": stable_id(cluster)[:16],
                "cluster_size": size,
                "frames": ["openness"] if copy % 2 else ["safety", "geopolitics"],
            }
            if copy:
                doc.update(
                    duplicate_kind="near" if copy % 2 else "exact",
                    near_duplicate_of=stable_id(cluster),
                    duplicate_score=0.8 + 0.03 * copy,
                )
            articles.append((doc["article_id"], doc))
    for i, (source, language) in enumerate(outlets):
        url = f"https://news.example/single/{i}"
        articles.append(
            (
                stable_id(url),
                {
                    "article_id": stable_id(url),
                    "url": url,
                    "source": source,
                    "language": language,
                    "title": f"Quarterly chip prices ({source})",
                    "published_at": ts(30 + 33 * i),
                    "topic_relevance": 0.05 + 0.03 * i,
                    "off_topic": True,
                    "word_count": 150,
                },
            )
        )

    drift = []
    frames = {"safety": 0.3, "openness": 0.35, "geopolitics": 0.2, "cost": 0.15}
    terms = [("open weights", 11.2), ("llama 4", 9.8), ("ai act", 6.1), ("distillation", 4.4)]
    for day in range(10):
        start = (now - timedelta(days=day + 1)).replace(minute=0, second=0, microsecond=0)
        window = {
            "baseline_id": "seed-v1",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(days=1)).isoformat(),
            "updated_at": now.isoformat(),
        }
        for size, factor in (("1d", 1.0), ("7d", 0.6)):
            drift.append(
                (
                    f"w-{size}-{day}",
                    {
                        **window,
                        "kind": "window",
                        "window": size,
                        "article_count": 12 + day,
                        "js_divergence": round(0.08 + 0.012 * day * factor, 4),
                        "centroid_shift": 0.02 * day,
                        "frame_shift": 0.1 + 0.03 * day,
                        "mean_baseline_similarity": 0.7,
                        "mean_novelty": 0.3,
                    },
                )
            )
        for size in ("1d", "7d"):
            for frame, share in frames.items():
                drift.append(
                    (
                        f"f-{size}-{frame}-{day}",
                        {
                            **window,
                            "kind": "frame",
                            "window": size,
                            "frame": frame,
                            "share": share + 0.01 * (day % 3),
                            "baseline_share": share,
                            "share_delta": 0.01 * (day % 3),
                        },
                    )
                )
            for rank, (term, keyness) in enumerate(terms[: 2 + day % 3], 1):
                drift.append(
                    (
                        f"t-{size}-{term}-{day}",
                        {
                            **window,
                            "kind": "term",
                            "window": size,
                            "term": term,
                            "keyness": keyness - 0.3 * day,
                            "log_ratio": 2.1 - 0.1 * rank,
                            "rank": rank,
                            "count": 9 - rank,
                            "baseline_count": 2,
                        },
                    )
                )
    for i, metric in enumerate(["js_divergence", "js_divergence", "frame_shift"]):
        drift.append(
            (
                f"e-{i}",
                {
                    "kind": "event",
                    "event_id": f"e-{i}",
                    "metric": metric,
                    "value": 0.21 + 0.02 * i,
                    "threshold": 0.2,
                    "consecutive_windows": 2 + i,
                    "window": "1d",
                    "window_start": ts(24 * (i + 1)),
                    "explanation": "above threshold",
                    "example_article_ids": [articles[i][0]],
                },
            )
        )

    alerts = []
    rules = [("llama-release", "rule"), ("eu-ai-act", "rule"), ("drift-js", "drift"), ("near-duplicate-burst", "rule")]
    for i in range(8):
        rule, kind = rules[i % len(rules)]
        article_id, article = articles[i]
        alerts.append(
            (
                stable_id(rule, article_id),
                {
                    "alert_id": stable_id(rule, article_id),
                    "rule_name": rule,
                    "kind": kind,
                    "subject_id": article_id,
                    "title": article["title"],
                    "message": f"{rule} matched",
                    "created_at": ts(3 + 17 * i),
                    "article_id": article_id,
                    "article_url": article["url"],
                    "source": article["source"],
                    "channels": ["email"],
                    "mode": "immediate",
                    "delivery_state": ["delivered", "delivered", "pending", "failed"][i % 4],
                },
            )
        )

    feeds = []
    for i, (source, _language) in enumerate(outlets):
        healthy = i not in (2, 4)
        url = f"https://news.example/{i}/rss"
        feeds.append(
            (
                stable_id(url),
                {
                    "feed_id": stable_id(url),
                    "feed_url": url,
                    "name": f"{source} tech",
                    "source": source,
                    "enabled": i != 4,
                    "health": "ok" if healthy else ("failing" if i == 2 else "disabled"),
                    "consecutive_failures": 0 if healthy else 3 + i,
                    "last_polled_at": ts(0.5 + i),
                    "last_success_at": ts(0.5 + i if healthy else 30 + i),
                    "last_status": 200 if healthy else 503,
                    "entries_seen": 40 + i,
                    "articles_indexed": 12 + 3 * i,
                    "updated_at": ts(0.5 + i),
                },
            )
        )
    return {"articles": articles, "drift": drift, "alerts": alerts, "feeds": feeds}


def leaves(node: dict[str, Any], bucket_ids: list[str], where: str) -> list[dict[str, Any]]:
    """Walk the bucket levels in order; each level must have buckets. Returns the innermost buckets."""
    if not bucket_ids:
        return [node]
    # auto_date_histogram fills gaps with empty buckets; Dashboards (min_doc_count 1) would not draw them
    buckets = [b for b in node[bucket_ids[0]]["buckets"] if b["doc_count"] > 0]
    assert buckets, f"{where}: aggregation {bucket_ids[0]} returned no non-empty bucket"
    found = []
    for bucket in buckets:
        found += leaves(bucket, bucket_ids[1:], where)
    return found


def has_value(leaf: dict[str, Any], agg: dict[str, Any]) -> bool:
    result = leaf[agg["id"]]
    if agg["type"] == "top_hits":
        return bool(result["hits"]["hits"]) and bool(result["hits"]["hits"][0]["fields"])
    return result["value"] is not None


def test_each_visualization_returns_buckets_on_the_real_node(opensearch_client, initialized_names: IndexNames):
    corpus = sample_corpus(datetime.now(UTC))
    for family, docs in corpus.items():
        outcomes = bulk_write(
            opensearch_client, write_actions(initialized_names.for_family(family), docs), refresh="wait_for"
        )
        assert [o.status for o in outcomes] == ["created"] * len(docs), [o for o in outcomes if not o.ok]

    for vis in VISUALIZATIONS:
        dash = dashboard_of(vis)
        time_range = (dash["attributes"]["timeFrom"], dash["attributes"]["timeTo"])
        index, body = visualization_query(vis, initialized_names, OBJECTS, time_range=time_range)
        assert index == f"{initialized_names.prefix}-{family_of(vis)}*"
        response = opensearch_client.search(index=index, body=body)
        where = f"{vis['id']} on {index} ({time_range[0]}..{time_range[1]})"
        assert response["hits"]["total"]["value"] > 0, f"{where}: the query matches nothing"
        aggs = [a for a in vis_state(vis)["aggs"] if a["enabled"]]
        bucket_ids = [a["id"] for a in aggs if a["schema"] != "metric"]
        innermost = leaves(response["aggregations"], bucket_ids, where)
        for agg in aggs:
            if agg["schema"] == "metric" and agg["type"] != "count":
                assert any(has_value(leaf, agg) for leaf in innermost), f"{where}: metric {agg['id']} has no value"

    for search in (o for o in OBJECTS if o["type"] == "search"):
        family = family_of(search)
        sort = [{f: {"order": d}} for f, d in search["attributes"]["sort"]]
        hits = opensearch_client.search(
            index=f"{initialized_names.prefix}-{family}*", body={"size": 50, "sort": sort, "query": {"match_all": {}}}
        )["hits"]["hits"]
        assert hits and all(set(search["attributes"]["columns"]) <= set(h["_source"]) for h in hits)
        times = [h["_source"][search["attributes"]["sort"][0][0]] for h in hits]
        assert times == sorted(times, reverse=True)


# --- Kibana 7.10 flavor -----------------------------------------------------------------------
# No Kibana runs here: these check the exported objects against what Kibana 7.10.2 accepts, structurally.

# attributes Kibana 7.10 maps per type (its .kibana index is strict like OpenSearch Dashboards')
KIBANA_710_ATTRIBUTES = {
    **OSD_ATTRIBUTES,
    "search": {"columns", "description", "hits", "kibanaSavedObjectMeta", "sort", "title", "version"},
    "index-pattern": {"fields", "timeFieldName", "title", "fieldFormatMap", "intervalName", "sourceFilters", "type"},
}
KIBANA_OBJECTS = for_flavor(OBJECTS, "kibana")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _date_histograms(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        a["params"]
        for o in objects
        if o["type"] == "visualization"
        for a in vis_state(o)["aggs"]
        if a["type"] == "date_histogram"
    ]


def test_kibana_export_has_no_opensearch_only_parameters():
    assert any(opensearch_only_keys(o) for o in OBJECTS)  # the committed file has them (for OSD) ...
    assert not any(opensearch_only_keys(o) for o in KIBANA_OBJECTS)  # ... the Kibana export none
    histograms = _date_histograms(KIBANA_OBJECTS)
    assert histograms and all(h["useNormalizedEsInterval"] is True for h in histograms)
    assert all("useNormalizedOpenSearchInterval" in h for h in _date_histograms(OBJECTS))
    assert "OpenSearch" not in export_saved_objects("kibana", "acme")


def test_kibana_export_is_the_same_objects_in_a_shape_kibana_710_imports():
    assert [(o["type"], o["id"], o["references"]) for o in KIBANA_OBJECTS] == [
        (o["type"], o["id"], o["references"]) for o in OBJECTS
    ]
    for obj in KIBANA_OBJECTS:
        assert set(obj["attributes"]) <= KIBANA_710_ATTRIBUTES[obj["type"]], obj["id"]
        # Kibana refuses an object migrated by a newer version than itself
        assert all(_version(v) <= (7, 10, 2) for v in obj["migrationVersion"].values()), obj["id"]
        assert obj["migrationVersion"] == {obj["type"]: MIGRATION_VERSIONS[obj["type"]]}
        for key in ("visState", "uiStateJSON", "optionsJSON", "panelsJSON"):
            if key in obj["attributes"]:
                json.loads(obj["attributes"][key])
        if "kibanaSavedObjectMeta" in obj["attributes"]:
            assert "indexRefName" in search_source(obj) or obj["type"] == "dashboard"
    for dashboard in (o for o in KIBANA_OBJECTS if o["type"] == "dashboard"):
        assert all(_version(p["version"]) <= (7, 10, 2) for p in panels(dashboard))


def test_flavor_checks():
    assert for_flavor(OBJECTS, "opensearch") == OBJECTS
    with pytest.raises(DashboardsError, match="unknown dashboards flavor 'grafana'"):
        for_flavor(OBJECTS, "grafana")
    odd = json.loads(json.dumps(VISUALIZATIONS[0]))
    state = vis_state(odd)
    state["params"]["opensearchDashboardsOnly"] = True
    odd["attributes"]["visState"] = json.dumps(state)
    with pytest.raises(DashboardsError, match="OpenSearch-only keys Kibana does not know: opensearchDashboardsOnly"):
        for_flavor([odd], "kibana")


def run_dashboards(*args: str) -> Any:
    return CliRunner().invoke(newsdrift_cli(), ["dashboards", *args], env={"NEWSDRIFT_INDEX_PREFIX": None})


def test_cli_export_writes_each_flavor(tmp_path: Path):
    kibana, osd = tmp_path / "kibana.ndjson", tmp_path / "osd.ndjson"
    assert run_dashboards("export", "--flavor", "kibana", "--out", str(kibana), "--prefix", "acme").exit_code == 0
    assert run_dashboards("export", "--out", str(osd)).exit_code == 0
    assert osd.read_text() == SAVED_OBJECTS_PATH.read_text()
    assert kibana.read_text() == dump_saved_objects(for_flavor(with_prefix(OBJECTS, "acme"), "kibana"))
    stdout = run_dashboards("export", "--flavor", "kibana")
    assert stdout.exit_code == 0 and stdout.stdout.count("\n") == len(OBJECTS)
    bad = run_dashboards("export", "--flavor", "grafana")
    assert bad.exit_code == 1 and "unknown dashboards flavor" in bad.output


def test_cli_import_into_kibana_sends_kbn_xsrf_and_the_kibana_objects(dashboards_server):
    dashboards_server.xsrf = "kbn-xsrf"
    result = run_import("--url", dashboards_server.url, "--flavor", "kibana", "--prefix", "acme", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["success_count"] == len(OBJECTS)
    [upload] = dashboards_server.uploads
    assert {k.lower(): v for k, v in upload.headers.items()}["kbn-xsrf"] == "true"
    assert upload.content == dump_saved_objects(for_flavor(with_prefix(OBJECTS, "acme"), "kibana"))
    assert "useNormalizedOpenSearchInterval" not in upload.content
