"""OpenSearch storage: the client, index names, templates and bulk writes."""

from newsdrift.store.bulk import bulk_write, claim_own_writes, write_actions
from newsdrift.store.client import connect, make_client, resolve_url
from newsdrift.store.names import IndexNames
from newsdrift.store.templates import apply_templates

__all__ = [
    "IndexNames",
    "apply_templates",
    "bulk_write",
    "claim_own_writes",
    "connect",
    "make_client",
    "resolve_url",
    "write_actions",
]
