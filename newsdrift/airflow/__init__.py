"""The functions the Airflow DAGs in ``dags/`` call, one module per DAG.

``ingest`` (newsdrift_ingest), ``drift`` (newsdrift_drift), ``baseline`` (newsdrift_baseline),
``maintenance`` (newsdrift_maintenance); ``common`` holds what they share (the store context,
the alerting cycle). Every task function is idempotent and returns a small JSON-serialisable
dict or list (ids and counts, never article bodies) so its result travels as an XCom. Heavy
imports happen inside the functions; the DAG files import these modules only inside their tasks.
"""
