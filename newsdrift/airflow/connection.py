"""Store settings from the Airflow connection ``opensearch_default``, when it exists.

The DAG tasks take their settings from ``settings_from_airflow``: the connection (type
``opensearch`` of apache-airflow-providers-opensearch, or ``AIRFLOW_CONN_OPENSEARCH_DEFAULT``)
overrides the store fields (``store_*``); every other field, and the store too when the connection is
not defined, comes from the ``NEWSDRIFT_*`` settings. Airflow is imported only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsdrift.settings import Settings

OPENSEARCH_CONN_ID = "opensearch_default"


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def airflow_connection(conn_id: str = OPENSEARCH_CONN_ID) -> Any | None:
    """The Airflow connection ``conn_id`` via ``airflow.sdk.BaseHook``, or None when it is not defined."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # newsdrift without the [airflow] extra
        return None
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def connection_overrides(conn: Any) -> dict[str, Any]:
    """Settings fields from an ``opensearch`` connection (host, port, login, password, extras).

    Extras follow the OpenSearch provider: ``use_ssl``, ``verify_certs``, ``scheme``,
    ``url_prefix``, ``timeout``; plus ``ca_certs`` (a CA bundle path). A host written
    with a scheme (``https://node``) keeps it.
    """
    extra = dict(conn.extra_dejson or {})
    host = (conn.host or "").strip()
    if not host:
        raise ValueError(f"Airflow connection {conn.conn_id!r} has no host")
    if "://" in host:
        scheme, host = host.split("://", 1)
    else:
        scheme = extra.get("scheme") or ("https" if _truthy(extra.get("use_ssl", False)) else "http")
    host = host.rstrip("/")
    port = f":{conn.port}" if conn.port else ("" if ":" in host else ":9200")
    prefix = str(extra.get("url_prefix") or "").strip("/")
    out: dict[str, Any] = {"store_url": f"{scheme}://{host}{port}" + (f"/{prefix}" if prefix else "")}
    if conn.login:
        out["store_user"] = conn.login
        out["store_password"] = conn.password or ""
    if "verify_certs" in extra:
        out["store_verify_certs"] = _truthy(extra["verify_certs"])
    if extra.get("ca_certs"):
        out["store_ca_certs"] = extra["ca_certs"]
    if extra.get("timeout") is not None:
        out["store_timeout"] = float(extra["timeout"])
    return out


def settings_from_airflow(conn_id: str = OPENSEARCH_CONN_ID) -> Settings:
    """Settings with the store taken from the Airflow connection when it exists, else ``get_settings()``.

    Every other field still comes from the ``NEWSDRIFT_*`` environment / settings file.
    """
    from newsdrift.settings import get_settings, load_settings

    conn = airflow_connection(conn_id)
    if conn is None:
        return get_settings()
    return load_settings(**connection_overrides(conn))
