"""Shared fixtures: a real store node (started or reused), isolated index names.

The OpenSearch node is the embedded default under ``.cache/test-home`` (port 9251) unless
NEWSDRIFT_TEST_OPENSEARCH_URL names another cluster. The store, pipeline, dedup, drift and alerting
integration modules (``ENGINE_MATRIX_MODULES``) run once per engine: the same tests against that node
and against a real Elasticsearch 7.10.2 node (embedded, port 9241: NEWSDRIFT_TEST_ELASTICSEARCH_PORT,
or NEWSDRIFT_TEST_ELASTICSEARCH_URL). NEWSDRIFT_TEST_ENGINES=opensearch limits the matrix. If a node
cannot start, the session fails with the node's log; nothing here ever skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from newsdrift.errors import NewsdriftError
from newsdrift.ops import node
from newsdrift.settings import PROJECT_ROOT, Settings, load_settings
from newsdrift.store.client import make_client
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates, delete_all

TEST_HOME = Path(os.environ.get("NEWSDRIFT_TEST_HOME", PROJECT_ROOT / ".cache" / "test-home"))
TEST_PORT = int(os.environ.get("NEWSDRIFT_TEST_OPENSEARCH_PORT", "9251"))
TEST_ES_PORT = int(os.environ.get("NEWSDRIFT_TEST_ELASTICSEARCH_PORT", "9241"))

# modules whose node tests run against both engines (the integration subset; the rest run on OpenSearch)
ENGINE_MATRIX_MODULES = {
    "test_store",
    "test_pipeline",
    "test_dedup_opensearch",
    "test_drift_opensearch",
    "test_alerting_matching",
    "test_alerting_monitors",
    "test_alerting_stage",
    "test_alerting_delivery",
    "test_sample_corpus_e2e",
    "test_engines",
}
ENGINES = tuple(
    e.strip() for e in os.environ.get("NEWSDRIFT_TEST_ENGINES", "opensearch,elasticsearch").split(",") if e.strip()
)


def _embedded_node(engine: str, port: int) -> Iterator[str]:
    """URL of a healthy embedded node of ``engine`` under the test home (started here unless running)."""
    overrides = {"elasticsearch_port": port} if engine == "elasticsearch" else {"opensearch_port": port}
    settings = load_settings(home=TEST_HOME, store_url=None, **overrides)
    reused = node.running_state(settings, engine) is not None
    try:
        state = node.start(settings, engine=engine)
    except NewsdriftError as exc:
        pytest.fail(f"the {engine} test node could not start:\n{exc}", pytrace=False)
    yield state.url
    if not reused and not os.environ.get("NEWSDRIFT_TEST_KEEP_NODE"):
        node.stop(settings, engine=engine)


@pytest.fixture(scope="session")
def opensearch_node_url() -> Iterator[str]:
    """The OpenSearch test node: an external test cluster, or the embedded one started here."""
    external = os.environ.get("NEWSDRIFT_TEST_OPENSEARCH_URL")
    if external:
        yield external.rstrip("/")
        return
    yield from _embedded_node("opensearch", TEST_PORT)


@pytest.fixture(scope="session")
def elasticsearch_node_url() -> Iterator[str]:
    """The Elasticsearch 7.10.2 test node (started only when a matrix test asks for it)."""
    external = os.environ.get("NEWSDRIFT_TEST_ELASTICSEARCH_URL")
    if external:
        yield external.rstrip("/")
        return
    yield from _embedded_node("elasticsearch", TEST_ES_PORT)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The matrix modules' node tests get one run per engine (ids ``[opensearch]`` / ``[elasticsearch]``)."""
    if "store_engine" in metafunc.fixturenames and metafunc.module.__name__ in ENGINE_MATRIX_MODULES:
        metafunc.parametrize("store_engine", ENGINES, indirect=True, scope="session")


@pytest.fixture(scope="session")
def store_engine(request: pytest.FixtureRequest) -> str:
    """The engine under test: parametrized in the matrix modules, OpenSearch elsewhere."""
    return getattr(request, "param", "opensearch")


@pytest.fixture(scope="session")
def opensearch_url(store_engine: str, request: pytest.FixtureRequest) -> str:
    """URL of a healthy store node of the engine under test (the name predates Elasticsearch support)."""
    fixture = "elasticsearch_node_url" if store_engine == "elasticsearch" else "opensearch_node_url"
    return request.getfixturevalue(fixture)


@pytest.fixture(scope="session")
def opensearch_client(opensearch_url: str, store_engine: str) -> OpenSearch:
    client = make_client(load_settings(store_url=opensearch_url))
    if not client.ping():
        pytest.fail(f"the {store_engine} node at {opensearch_url} does not answer", pytrace=False)
    return client


@pytest.fixture
def index_names(opensearch_client: OpenSearch) -> Iterator[IndexNames]:
    """A unique prefix for this test; everything under it is deleted afterwards."""
    names = IndexNames(f"t{uuid.uuid4().hex[:10]}")
    yield names
    delete_all(opensearch_client, names)


@pytest.fixture
def initialized_names(opensearch_client: OpenSearch, index_names: IndexNames) -> IndexNames:
    """Like ``index_names`` with the templates applied and the indices created."""
    apply_templates(opensearch_client, index_names)
    return index_names


# the bare prefix, for tests that name their indices through settings
@pytest.fixture
def index_prefix(index_names: IndexNames) -> str:
    return index_names.prefix


@pytest.fixture
def settings(opensearch_url: str, index_names: IndexNames, tmp_path: Path) -> Settings:
    """Settings pointing at the test node and this test's prefix; loopback allowed."""
    return load_settings(
        store_url=opensearch_url,
        index_prefix=index_names.prefix,
        allow_private_networks=True,
        home=tmp_path / "home",
        per_host_delay=0.0,
    )


# the channels config/alerts.yaml sends to, each read from NEWSDRIFT_CHANNEL_<NAME>
CHANNELS = ("NEWSROOM", "OPS", "DIGEST_MAIL")


@pytest.fixture
def channels(monkeypatch):
    """Every channel of config/alerts.yaml pointed at one loopback webhook receiver."""
    from newsdrift.alert.receivers import WebhookReceiver

    with WebhookReceiver() as receiver:
        for channel in CHANNELS:
            monkeypatch.setenv(f"NEWSDRIFT_CHANNEL_{channel}", receiver.apprise_url(channel.lower()))
        yield receiver


@pytest.fixture
def sample_server():
    """The offline sample corpus on an ephemeral loopback port."""
    from newsdrift.ops.sample import SampleServer

    server = SampleServer(port=0).start()
    yield server
    server.stop()


# --- markers by what a test needs ---------------------------------------------------
# `node`: a real OpenSearch node (any test using the node fixtures, directly or through another
# fixture); `airflow`: real Airflow (DAG parsing or dag.test()). `pytest -m "not node and not airflow"`
# is the quick loop; CI runs everything.

_NODE_FIXTURES = {"opensearch_url", "opensearch_client", "opensearch_node_url", "elasticsearch_node_url"}
_AIRFLOW_MODULES = {"test_dags", "test_airflow_e2e"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _NODE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.node)
        module = getattr(item, "module", None)
        if module is not None and (module.__name__ in _AIRFLOW_MODULES or "airflow" in item.keywords):
            item.add_marker(pytest.mark.airflow)
