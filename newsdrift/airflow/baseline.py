"""Task of the ``newsdrift_baseline`` DAG: load a baseline corpus (its second task is
``newsdrift.airflow.drift.update_drift`` over every window)."""

from __future__ import annotations

from typing import Any

from newsdrift.airflow.common import store_context


def load_baseline(paths: list[str] | None = None, name: str | None = None) -> dict[str, Any]:
    """Load a baseline corpus with ``newsdrift.score.baseline`` (files, folders or URLs).

    The id is ``<name>-v<N>``: the same documents again return the existing version (nothing
    written), different ones make a new version. Defaults: ``baseline_dir`` and the name part of
    ``NEWSDRIFT_BASELINE_ID``. Any document that cannot be read fails the task (and is named).
    """
    from newsdrift.errors import NewsdriftError
    from newsdrift.score import baseline
    from newsdrift.score.frames import load_frames

    settings, client, names = store_context()
    name = name or settings.baseline_id.rpartition("-v")[0] or settings.baseline_id
    sources = [str(p) for p in paths] if paths else [str(settings.baseline_dir)]
    docs, failures = baseline.read_documents(sources, settings)
    if failures or not docs:
        problems = "; ".join(f"{f.where}: {f.reason}" for f in failures) or f"no documents in {sources}"
        raise NewsdriftError(f"baseline {name!r} not loaded: {problems}")
    result = baseline.load(client, names, docs, name=name, frames=load_frames(settings.frames_path))
    if result.failures:
        raise NewsdriftError("; ".join(f"{f.where}: {f.reason}" for f in result.failures))
    return {
        "baseline_id": result.baseline_id,
        "version": result.version,
        "created": result.created,
        "documents": result.documents,
        "sources": sources,
        "active": result.baseline_id == settings.baseline_id,
    }
