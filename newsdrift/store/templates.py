"""Apply the index templates in ``mappings/`` idempotently and bootstrap the indices.

Each file carries a ``version``; a content hash in ``_meta.content_sha1`` makes
"unchanged" exact, so a second ``init`` changes nothing and an edited file is
reported as an upgrade.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from newsdrift.settings import data_dir
from newsdrift.store.ism import template_settings
from newsdrift.store.names import FAMILIES, IndexNames

MAPPINGS_DIR = data_dir("mappings")
_DEFAULT_PREFIX = "newsdrift"


@dataclass
class TemplateChange:
    name: str
    kind: str  # "component" | "index" | "index-created" | "alias-created"
    action: str  # "created" | "updated" | "unchanged"
    version: int | None = None
    previous_version: int | None = None


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _rename(value: str, prefix: str) -> str:
    return prefix + value[len(_DEFAULT_PREFIX) :] if value.startswith(_DEFAULT_PREFIX) else value


def _with_prefix(body: dict, prefix: str) -> dict:
    body = copy.deepcopy(body)
    if "index_patterns" in body:
        body["index_patterns"] = [_rename(p, prefix) for p in body["index_patterns"]]
    if "composed_of" in body:
        body["composed_of"] = [_rename(c, prefix) for c in body["composed_of"]]
    digest = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
    body.setdefault("_meta", {})["content_sha1"] = digest
    return body


def component_files(mappings_dir: Path = MAPPINGS_DIR) -> list[Path]:
    return sorted((mappings_dir / "components").glob("*.json"))


def index_template_files(mappings_dir: Path = MAPPINGS_DIR) -> list[Path]:
    return [mappings_dir / f"{family}.json" for family in FAMILIES]


def _existing(client: OpenSearch, kind: str, name: str) -> dict | None:
    try:
        if kind == "component":
            found = client.cluster.get_component_template(name=name)["component_templates"]
            return found[0]["component_template"] if found else None
        found = client.indices.get_index_template(name=name)["index_templates"]
        return found[0]["index_template"] if found else None
    except NotFoundError:
        return None


def _apply_one(client: OpenSearch, kind: str, name: str, body: dict) -> TemplateChange:
    current = _existing(client, kind, name)
    version = body.get("version")
    if current is not None and current.get("_meta", {}).get("content_sha1") == body["_meta"]["content_sha1"]:
        return TemplateChange(name, kind, "unchanged", version, current.get("version"))
    if kind == "component":
        client.cluster.put_component_template(name=name, body=body)
    else:
        client.indices.put_index_template(name=name, body=body)
    action = "created" if current is None else "updated"
    return TemplateChange(name, kind, action, version, None if current is None else current.get("version"))


def apply_templates(
    client: OpenSearch, names: IndexNames, mappings_dir: Path = MAPPINGS_DIR, create_indices: bool = True
) -> list[TemplateChange]:
    """Put component and index templates, then create missing indices and the articles write alias."""
    changes = []
    for path in component_files(mappings_dir):
        body = _with_prefix(_load(path), names.prefix)
        family = body.pop("_meta")
        body["_meta"] = family
        changes.append(_apply_one(client, "component", names.template(path.stem), body))
    for family, path in zip(FAMILIES, index_template_files(mappings_dir), strict=True):
        raw = _load(path)
        if family == "articles":
            raw["template"]["settings"].update(template_settings(client, names))  # ISM clusters only
        body = _with_prefix(raw, names.prefix)
        changes.append(_apply_one(client, "index", names.template(family), body))
    if create_indices:
        changes += ensure_indices(client, names)
        if any(c.action == "updated" for c in changes):
            changes += sync_mappings(client, names)
    return changes


def sync_mappings(client: OpenSearch, names: IndexNames) -> list[TemplateChange]:
    """Put the templates' (additive) mappings on indices created before a template change.

    A template only shapes indices created after it; without this, a field added in a new
    version would be rejected by the ``dynamic: strict`` indices an older version created.
    """
    changes = []
    indices = client.indices.get(index=f"{names.prefix}-*", expand_wildcards="open")
    for index in sorted(indices):
        simulated = client.indices.simulate_index_template(name=index)
        properties = ((simulated.get("template") or {}).get("mappings") or {}).get("properties")
        if not properties:
            continue
        current = (indices[index].get("mappings") or {}).get("properties") or {}
        if set(properties) <= set(current):
            continue
        client.indices.put_mapping(index=index, body={"properties": properties})
        changes.append(TemplateChange(index, "mapping", "updated"))
    return changes


def ensure_indices(client: OpenSearch, names: IndexNames) -> list[TemplateChange]:
    """Create the concrete indices the templates describe, if missing (idempotent)."""
    changes = []
    if not client.indices.exists_alias(name=names.articles):
        try:
            client.indices.create(
                index=names.articles_index(1),
                body={"aliases": {names.articles: {"is_write_index": True}}},
            )
            changes.append(TemplateChange(names.articles, "alias-created", "created"))
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
    for family in FAMILIES:
        if family == "articles":
            continue
        index = names.for_family(family)
        if not client.indices.exists(index=index):
            try:
                client.indices.create(index=index)
                changes.append(TemplateChange(index, "index-created", "created"))
            except RequestError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
    return changes


def delete_all(client: OpenSearch, names: IndexNames) -> None:
    """Remove every index and template of a prefix (tests and `newsdrift reset`)."""
    client.indices.delete(index=f"{names.prefix}-*", ignore_unavailable=True, expand_wildcards="all")
    for family in FAMILIES:
        try:
            client.indices.delete_index_template(name=names.template(family))
        except NotFoundError:
            pass
    for path in component_files():
        try:
            client.cluster.delete_component_template(name=names.template(path.stem))
        except NotFoundError:
            pass
