"""Rollover and retention by OpenSearch's Index State Management plugin, where the cluster has it.

``newsdrift init`` applies the policy in ``mappings/ism/articles-policy.json`` (rollover past
``rollover_max_age_days`` / ``rollover_max_docs``, delete past ``retention_days``) and attaches it
to the existing article indices; its ``ism_template`` attaches it to the indices rollover creates.
The embedded node has no ISM plugin: there the ``newsdrift_maintenance`` DAG rolls over and applies
retention, and ``init`` says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from newsdrift.settings import Settings, data_dir
from newsdrift.store.names import IndexNames

PLUGIN = "opensearch-index-management"
POLICY_FILE = data_dir("mappings") / "ism" / "articles-policy.json"
ROLLOVER_ALIAS_SETTING = "plugins.index_state_management.rollover_alias"


@dataclass
class IsmResult:
    status: str  # absent | created | updated | unchanged
    policy_id: str | None = None
    reason: str = ""
    attached: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ism_available(client: OpenSearch) -> bool:
    """Whether any node of the cluster runs the ISM plugin (``_cat/plugins``; remembered per client)."""
    known = getattr(client, "_newsdrift_ism", None)
    if known is None:
        rows = client.cat.plugins(format="json") or []
        known = any(row.get("component") == PLUGIN for row in rows)
        client._newsdrift_ism = known  # type: ignore[attr-defined]
    return bool(known)


def template_settings(client: OpenSearch, names: IndexNames) -> dict[str, Any]:
    """Settings the articles template carries on an ISM cluster: the rollover alias ISM's rollover needs."""
    return {ROLLOVER_ALIAS_SETTING: names.articles} if ism_available(client) else {}


def policy_body(settings: Settings, names: IndexNames) -> dict[str, Any]:
    """The policy file with the settings' limits and the index prefix filled in."""
    text = POLICY_FILE.read_text(encoding="utf-8")
    text = (
        text.replace("{rollover_max_age}", f"{int(settings.rollover_max_age_days * 24)}h")
        .replace('"{rollover_max_docs}"', str(settings.rollover_max_docs))
        .replace("{retention}", f"{int(settings.retention_days * 24)}h")
        .replace('"newsdrift-articles-*"', json.dumps(names.articles_pattern))
    )
    body: dict[str, Any] = json.loads(text)
    digest = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
    body["policy"]["description"] += f" [content_sha1 {digest}]"
    return body


def apply_ism_policy(client: OpenSearch, settings: Settings, names: IndexNames) -> IsmResult:
    """Put the articles policy (if the plugin is there) and attach it to the article indices."""
    if not ism_available(client):
        why = f"the cluster has no {PLUGIN} plugin: the newsdrift_maintenance DAG rolls over and applies retention"
        return IsmResult("absent", reason=why)
    policy_id = f"{names.prefix}-articles"
    body = policy_body(settings, names)
    path = f"/_plugins/_ism/policies/{policy_id}"
    try:
        current = client.transport.perform_request("GET", path)
    except NotFoundError:
        current = None
    if current is None:
        client.transport.perform_request("PUT", path, body=body)
        status = "created"
    elif current["policy"].get("description") == body["policy"]["description"]:
        status = "unchanged"
    else:
        params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
        client.transport.perform_request("PUT", path, params=params, body=body)
        status = "updated"
    # rollover needs the alias on the write index; new indices get it from the articles template
    client.indices.put_settings(index=names.articles_pattern, body={ROLLOVER_ALIAS_SETTING: names.articles})
    added = client.transport.perform_request(
        "POST", f"/_plugins/_ism/add/{names.articles_pattern}", body={"policy_id": policy_id}
    )
    return IsmResult(status, policy_id, attached=int(added.get("updated_indices", 0)))
