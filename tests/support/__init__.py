"""Helpers the tests share: loopback servers, the Airflow runner, Dashboards query translation."""
