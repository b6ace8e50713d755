# The newsdrift Airflow image: the official Airflow image plus this package and its data.
# Build: docker compose build   (or: docker build -t newsdrift/airflow:local .)
#
# The base tag must match apache-airflow in pyproject.toml / constraints.txt (tests/test_compose.py checks it);
# Python 3.11 matches the interpreter constraints.txt was resolved with.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN mkdir -p /opt/newsdrift && chown airflow:0 /opt/newsdrift
USER airflow
WORKDIR /opt/newsdrift

# Dependencies first (the layer is reused while only DAGs or data change), pinned by constraints.txt.
# An editable install: newsdrift finds mappings/, config/, baseline/ and dashboards/ next to its
# package directory (newsdrift.settings.PROJECT_ROOT), i.e. here in /opt/newsdrift, not in site-packages.
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:0 newsdrift/ newsdrift/
COPY --chown=airflow:0 extractors/ extractors/
RUN pip install --no-cache-dir -c constraints.txt -e ".[airflow]"

COPY --chown=airflow:0 mappings/ mappings/
COPY --chown=airflow:0 baseline/ baseline/
COPY --chown=airflow:0 dashboards/ dashboards/
COPY --chown=airflow:0 config/ config/
COPY --chown=airflow:0 dags/ dags/

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/newsdrift/dags \
    NEWSDRIFT_CONFIG_DIR=/opt/newsdrift/config \
    NEWSDRIFT_BASELINE_DIR=/opt/newsdrift/baseline

# Fail the build, not the first DAG run, if the package or its data files are missing, or if the
# pinned dependencies broke a provider the deployment relies on (FAB auth manager, OpenSearch hook).
# AIRFLOW_HOME points at a scratch directory so no generated airflow.cfg is baked into the image.
RUN newsdrift --help >/dev/null \
    && python -c "from newsdrift.ops.dashboards import load_saved_objects; load_saved_objects()" \
    && test -f mappings/articles.json \
    && AIRFLOW_HOME=/tmp/airflow-check python -c "import airflow.providers.fab.auth_manager.fab_auth_manager, \
airflow.providers.opensearch.hooks.opensearch" \
    && rm -rf /tmp/airflow-check
