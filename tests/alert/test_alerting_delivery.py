"""Delivery through apprise to real local receivers: a JSON webhook and an SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from newsdrift.alert import (
    DeliveryPolicy,
    RetryPolicy,
    deliver_pending,
    list_alerts,
    match_articles,
    parse_rules,
    sync_rules,
    test_channel,
)
from newsdrift.alert.receivers import WebhookReceiver
from newsdrift.clock import parse_time, utcnow

SMTP_PASSWORD = "smtp-Pa55word-xyz"
FAST = DeliveryPolicy(retry=RetryPolicy(attempts=3, backoff_seconds=0.05, max_backoff_seconds=0.1))


def free_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpRecorder:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.authenticated: list[bool] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.authenticated.append(bool(session.authenticated))
        return "250 OK"

    def body(self, index: int) -> str:
        return self.messages[index].get_body(preferencelist=("plain",)).get_content()


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def webhook():
    with WebhookReceiver() as hook:
        yield hook


@pytest.fixture
def smtp():
    recorder = SmtpRecorder()
    recorder.port = free_port()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=recorder.port, authenticator=_authenticator, auth_require_tls=False
    )
    controller.start()
    yield recorder
    controller.stop()


def mail_url(port: int) -> str:
    return (
        f"mailto://alerts:{SMTP_PASSWORD}@127.0.0.1:{port}?from=newsdrift@example.org&to=desk@example.org&mode=insecure"
    )


RULES = {
    "channels": {"hook": {"url_env": "NEWSDRIFT_TEST_HOOK"}, "mail": {"url_env": "NEWSDRIFT_TEST_MAIL"}},
    "rules": [
        {"name": "llama", "channels": ["hook", "mail"], "match": {"any": ["llama"]}},
        {
            "name": "weights-digest",
            "channels": ["hook"],
            "mode": "digest",
            "every_minutes": 60,
            "match": {"any": ["weights"]},
        },
    ],
}


def article(article_id: str, title: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return article_id, {
        "article_id": article_id,
        "title": title,
        "text": title,
        "source": "Wire",
        "url": f"https://wire.example/{article_id}",
        "published_at": "2026-11-20T10:00:00+00:00",
        "story_cluster_id": article_id,
        **fields,
    }


def prepared(client, names, monkeypatch, hook_url: str, mail: str | None = None, rules=RULES):
    monkeypatch.setenv("NEWSDRIFT_TEST_HOOK", hook_url)
    if mail:
        monkeypatch.setenv("NEWSDRIFT_TEST_MAIL", mail)
    else:
        monkeypatch.delenv("NEWSDRIFT_TEST_MAIL", raising=False)
    ruleset = parse_rules(rules)
    assert ruleset.rejected == []
    sync_rules(client, names, ruleset)
    return ruleset


def alert_docs(client, names) -> list[dict[str, Any]]:
    client.indices.refresh(index=names.alerts)
    resp = client.search(index=names.alerts, body={"size": 1000, "query": {"match_all": {}}})
    return [h["_source"] for h in resp["hits"]["hits"]]


def test_webhook_and_email_receive_exactly_the_expected_messages(
    opensearch_client, initialized_names, webhook, smtp, monkeypatch
):
    client, names = opensearch_client, initialized_names
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url("alerts"), mail_url(smtp.port))
    docs = [article("a1", "Meta ships Llama 4"), article("a2", "Llama licence questions", source="Gazette")]
    alerts = match_articles(client, names, docs, ruleset)
    assert len(alerts) == 2

    report = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert len(report.sent) == 4 and report.failed == [] and report.messages == 4

    assert webhook.wait_for(2, timeout=5)
    assert len(webhook.requests) == 2 and {r.path for r in webhook.requests} == {"/alerts"}
    payloads = sorted((r.json for r in webhook.requests), key=lambda p: p["title"])
    assert [p["title"] for p in payloads] == [
        "newsdrift [llama]: Llama licence questions",
        "newsdrift [llama]: Meta ships Llama 4",
    ]
    assert "Source: Gazette" in payloads[0]["message"] and "https://wire.example/a2" in payloads[0]["message"]
    assert "Matched terms: llama" in payloads[1]["message"]

    assert len(smtp.messages) == 2 and all(smtp.authenticated)
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == ["newsdrift [llama]: Llama licence questions", "newsdrift [llama]: Meta ships Llama 4"]
    assert all(m["To"] == "desk@example.org" for m in smtp.messages)
    bodies = " ".join(smtp.body(i) for i in range(2))
    assert "https://wire.example/a1" in bodies and "Matched terms: llama" in bodies

    for doc in alert_docs(client, names):
        assert doc["delivery_state"] == "sent"
        assert {d["channel"]: (d["state"], d["attempts"]) for d in doc["deliveries"]} == {
            "hook": ("sent", 1),
            "mail": ("sent", 1),
        }
        assert all(parse_time(d["sent_at"]) for d in doc["deliveries"])

    # re-running matching and delivery sends nothing twice
    assert match_articles(client, names, docs, ruleset) == []
    again = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert (again.sent, again.messages) == ([], 0)
    assert len(webhook.requests) == 2 and len(smtp.messages) == 2


def test_a_down_channel_is_retried_and_delivered_once_it_is_back(
    opensearch_client, initialized_names, smtp, monkeypatch
):
    client, names = opensearch_client, initialized_names
    port = free_port()  # nothing listens here yet
    ruleset = prepared(client, names, monkeypatch, f"json://127.0.0.1:{port}/alerts", mail_url(smtp.port))
    match_articles(client, names, [article("a1", "Llama one"), article("a2", "Llama two")], ruleset)

    first = deliver_pending(client, names, ruleset.channels, policy=FAST)  # must not raise
    assert {c for _, c in first.sent} == {"mail"} and len(first.sent) == 2
    assert [c for _, c, _ in first.failed] == ["hook"]
    docs = alert_docs(client, names)
    hooks = [next(d for d in doc["deliveries"] if d["channel"] == "hook") for doc in docs]
    assert {h["state"] for h in hooks} == {"failed"}
    assert all("Connection error" in h["error"] for h in hooks)
    assert sorted(h["attempts"] for h in hooks) == [0, 3]  # the second one waits: its channel failed this round
    assert {doc["delivery_state"] for doc in docs} == {"failed"}

    second = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert second.sent == [] and len(second.failed) == 1
    assert len(smtp.messages) == 2  # mail was not sent again

    with WebhookReceiver(port=port) as back:
        third = deliver_pending(client, names, ruleset.channels, policy=FAST)
        assert sorted(c for _, c in third.sent) == ["hook", "hook"] and third.failed == []
        assert back.wait_for(2, timeout=5)
        assert sorted(r.json["title"] for r in back.requests) == [
            "newsdrift [llama]: Llama one",
            "newsdrift [llama]: Llama two",
        ]
        assert deliver_pending(client, names, ruleset.channels, policy=FAST).sent == []
        assert len(back.requests) == 2
    for doc in alert_docs(client, names):
        hook = next(d for d in doc["deliveries"] if d["channel"] == "hook")
        assert doc["delivery_state"] == "sent" and hook["state"] == "sent" and "error" not in hook
    assert len(smtp.messages) == 2


def test_missing_channel_url_keeps_alerts_pending_until_it_is_set(
    opensearch_client, initialized_names, webhook, monkeypatch
):
    client, names = opensearch_client, initialized_names
    rules = {
        "channels": RULES["channels"],
        "rules": [{"name": "llama", "channels": ["mail", "hook"], "match": {"any": ["llama"]}}],
    }
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url(), None, rules)
    match_articles(client, names, [article("a1", "Llama one")], ruleset)
    report = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert [c for _, c in report.sent] == ["hook"]
    (doc,) = alert_docs(client, names)
    mail = next(d for d in doc["deliveries"] if d["channel"] == "mail")
    assert mail["state"] == "failed" and "NEWSDRIFT_TEST_MAIL is not set" in mail["error"]

    with_smtp = SmtpRecorder()
    with_smtp.port = free_port()
    controller = Controller(
        with_smtp, hostname="127.0.0.1", port=with_smtp.port, authenticator=_authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        monkeypatch.setenv("NEWSDRIFT_TEST_MAIL", mail_url(with_smtp.port))
        report = deliver_pending(client, names, ruleset.channels, policy=FAST)
        assert [c for _, c in report.sent] == ["mail"] and len(with_smtp.messages) == 1
    finally:
        controller.stop()
    assert len(webhook.requests) == 1


def test_digest_rules_send_one_message_per_channel_when_due(opensearch_client, initialized_names, webhook, monkeypatch):
    client, names = opensearch_client, initialized_names
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url("digest"), None)
    now = utcnow()
    docs = [article(f"w{i}", f"Open weights story {i}") for i in range(3)]
    alerts = match_articles(client, names, docs, ruleset, now=now)
    assert {a.rule for a in alerts} == {"weights-digest"}
    due = parse_time(alerts[0].details["digest_due_at"])
    assert now < due <= now + timedelta(minutes=60)

    assert deliver_pending(client, names, ruleset.channels, now=now, policy=FAST).sent == []
    assert webhook.requests == []
    report = deliver_pending(client, names, ruleset.channels, now=due + timedelta(seconds=1), policy=FAST)
    assert len(report.sent) == 3 and report.messages == 1
    assert webhook.wait_for(1)
    (message,) = [r.json for r in webhook.requests]
    assert message["title"] == "newsdrift [weights-digest]: digest of 3 alert(s)"
    for i in range(3):
        assert f"Open weights story {i}" in message["message"]

    later = due + timedelta(hours=2)
    match_articles(client, names, [article("w9", "Open weights story 9")], ruleset, now=later)
    assert deliver_pending(client, names, ruleset.channels, now=later, policy=FAST).sent == []
    report = deliver_pending(client, names, ruleset.channels, now=later + timedelta(hours=1), policy=FAST)
    assert report.messages == 1 and len(report.sent) == 1
    assert len(webhook.requests) == 2 and "digest of 1 alert(s)" in webhook.requests[1].json["title"]


def test_concurrent_workers_never_send_an_alert_twice(opensearch_client, initialized_names, webhook, monkeypatch):
    client, names = opensearch_client, initialized_names
    rules = {
        "channels": RULES["channels"],
        "rules": [{"name": "llama", "channels": ["hook"], "match": {"any": ["llama"]}}],
    }
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url(), None, rules)
    match_articles(client, names, [article(f"c{i}", f"Llama item {i}") for i in range(8)], ruleset)

    barrier = threading.Barrier(4)
    reports = []

    def worker() -> None:
        barrier.wait()
        reports.append(deliver_pending(client, names, ruleset.channels, policy=FAST))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(len(r.sent) for r in reports) == 8
    assert webhook.wait_for(8)
    titles = [r.json["title"] for r in webhook.requests]
    assert len(titles) == 8 and len(set(titles)) == 8
    assert {d["delivery_state"] for d in alert_docs(client, names)} == {"sent"}


def test_secrets_never_reach_logs_records_or_errors(opensearch_client, initialized_names, smtp, monkeypatch, caplog):
    caplog.set_level("DEBUG")
    client, names = opensearch_client, initialized_names
    hook_password, hook_token = "hookPASSWORD-4711", "hookTOKEN-0a1b2c3d4e5f"
    down = free_port()
    hook_url = f"json://user:{hook_password}@127.0.0.1:{down}/services/{hook_token}?cto=2"
    ruleset = prepared(client, names, monkeypatch, hook_url, mail_url(smtp.port))

    match_articles(client, names, [article("s1", "Llama secret test")], ruleset)
    report = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert [c for _, c in report.sent] == ["mail"] and len(report.failed) == 1
    ok, error = test_channel(ruleset.channels["hook"])
    assert not ok and error and "Connection error" in error

    secrets = [hook_password, hook_token, SMTP_PASSWORD, hook_url]
    stored = json.dumps(alert_docs(client, names)) + json.dumps(
        client.search(index=names.alert_rules, body={"size": 100})["hits"]["hits"]
    )
    visible = "\n".join(
        [caplog.text, stored, error, json.dumps(report.to_json()), json.dumps(list_alerts(client, names))]
    )
    assert "Connection error" in stored  # the reason is kept...
    for secret in secrets:
        assert secret not in visible  # ...the secret is not
    assert any(r.name == "apprise" for r in caplog.records)  # apprise's own debug logs were checked too


def test_test_channel_and_list_alerts(opensearch_client, initialized_names, webhook, monkeypatch):
    client, names = opensearch_client, initialized_names
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url("t"), None)
    assert test_channel(ruleset.channels["hook"]) == (True, None)
    assert webhook.wait_for(1) and "test message" in webhook.requests[0].json["title"]
    closed = parse_rules({"channels": {"x": {"url_env": "NEWSDRIFT_TEST_CLOSED"}}, "rules": []})
    monkeypatch.setenv("NEWSDRIFT_TEST_CLOSED", f"json://127.0.0.1:{free_port()}/x")
    ok, error = test_channel(closed.channels["x"])
    assert not ok and "Connection error" in error

    match_articles(client, names, [article("l1", "Llama listed")], ruleset)
    deliver_pending(client, names, ruleset.channels, policy=FAST)
    rows = list_alerts(client, names, since="1h")
    assert [(r["rule"], r["title"], r["delivery_state"]) for r in rows] == [("llama", "Llama listed", "failed")]
    assert {d["channel"]: d["state"] for d in rows[0]["deliveries"]} == {"hook": "sent", "mail": "failed"}
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert list_alerts(client, names, since=future) == []


def test_pending_alerts_are_paged_and_an_abandoned_claim_is_retried_after_its_lease(
    opensearch_client, initialized_names, webhook, monkeypatch
):
    from newsdrift.alert.delivery import _pending_hits

    client, names = opensearch_client, initialized_names
    rules = {
        "channels": RULES["channels"],
        "rules": [{"name": "llama", "channels": ["hook"], "match": {"any": ["llama"]}}],
    }
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url(), None, rules)
    alerts = match_articles(client, names, [article(f"p{i}", f"Llama page {i}") for i in range(7)], ruleset)
    paged = _pending_hits(client, names, limit=100, page=3)
    assert sorted(h["_id"] for h in paged) == sorted(a.id for a in alerts)

    # a worker claimed two deliveries and died before sending: one claim is fresh, one is past its lease
    now = utcnow()
    for alert, started in ((alerts[0], now - timedelta(seconds=10)), (alerts[1], now - timedelta(hours=1))):
        client.update(
            index=names.alerts,
            id=alert.id,
            refresh=True,
            body={
                "doc": {
                    "deliveries": [
                        {"channel": "hook", "state": "sending", "attempts": 1, "last_attempt_at": started.isoformat()}
                    ]
                }
            },
        )
    report = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert len(report.sent) == 6 and alerts[0].id not in {a for a, _ in report.sent}
    assert webhook.wait_for(6) and len(webhook.requests) == 6
    fresh = client.get(index=names.alerts, id=alerts[0].id)["_source"]["deliveries"][0]
    assert fresh["state"] == "sending"  # still owned by its (maybe slow) worker
    stale = client.get(index=names.alerts, id=alerts[1].id)["_source"]["deliveries"][0]
    assert (stale["state"], stale["attempts"]) == ("sent", 2)


# --- at-least-once delivery with an idempotency key -----------------------------------------------------------

KEYED_RULES = {
    "channels": {"hook": {"url_env": "NEWSDRIFT_TEST_HOOK"}, "mail": {"url_env": "NEWSDRIFT_TEST_MAIL"}},
    "rules": [
        {"name": "llama", "channels": ["hook", "mail"], "match": {"any": ["llama"]}},
        {
            "name": "weights-digest",
            "channels": ["hook", "mail"],
            "mode": "digest",
            "every_minutes": 60,
            "match": {"any": ["weights"]},
        },
    ],
}
HOOK_ONLY_RULES = {
    "channels": {"hook": {"url_env": "NEWSDRIFT_TEST_HOOK"}},
    "rules": [
        {"name": "llama", "channels": ["hook"], "match": {"any": ["llama"]}},
        {
            "name": "weights-digest",
            "channels": ["hook"],
            "mode": "digest",
            "every_minutes": 60,
            "match": {"any": ["weights"]},
        },
    ],
}

# A delivery worker in its own process, killed by the receiver once the message has arrived (before the
# worker sees the answer, so before it can record ``sent``): the crash window of at-least-once delivery.
_DELIVERY_WORKER = """
import json, sys
from newsdrift.alert import DeliveryPolicy, RetryPolicy, deliver_pending, parse_rules
from newsdrift.clock import parse_time
from newsdrift.settings import load_settings
from newsdrift.store.names import IndexNames
from newsdrift.store.client import make_client

url, prefix, rules, now = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
client = make_client(load_settings(store_url=url))
report = deliver_pending(client, IndexNames(prefix), parse_rules(rules).channels, now=parse_time(now) if now else None,
                         policy=DeliveryPolicy(retry=RetryPolicy(attempts=1), lease_seconds=1.0))
print("finished", json.dumps(report.to_json()), flush=True)
"""


def message_key(request) -> str:
    """The key as a receiver sees it: header, JSON field and body footer must agree."""
    payload = request.json
    footer = payload["message"].rsplit("\n", 1)[-1]
    assert footer == f"Idempotency-Key: {request.idempotency_key}", footer
    assert payload["idempotency_key"] == request.idempotency_key
    return request.idempotency_key


@pytest.mark.parametrize("mode", ["instant", "digest"])
def test_a_worker_killed_after_sending_leads_to_one_resend_with_the_same_idempotency_key(
    opensearch_url, opensearch_client, initialized_names, webhook, monkeypatch, mode
):
    import os
    import signal
    import subprocess
    import sys
    import time

    from newsdrift.alert.messages import digest_key

    client, names = opensearch_client, initialized_names
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url("crash"), None, HOOK_ONLY_RULES)
    now = utcnow()
    if mode == "instant":
        alerts = match_articles(client, names, [article("k1", "Llama crash test")], ruleset, now=now)
        expected_key, send_at = alerts[0].id, None
    else:
        alerts = match_articles(
            client, names, [article(f"d{i}", f"Open weights crash {i}") for i in range(3)], ruleset, now=now
        )
        expected_key = digest_key(a.id for a in alerts)
        send_at = parse_time(alerts[0].details["digest_due_at"]) + timedelta(seconds=1)
    assert len(alerts) == (1 if mode == "instant" else 3)

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _DELIVERY_WORKER,
            opensearch_url,
            names.prefix,
            json.dumps(HOOK_ONLY_RULES),
            send_at.isoformat() if send_at else "",
        ],
        env={**os.environ, "NEWSDRIFT_TEST_HOOK": webhook.apprise_url("crash")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    webhook.on_request = lambda request: os.kill(child.pid, signal.SIGKILL)
    try:
        out, err = child.communicate(timeout=120)
    finally:
        webhook.on_request = None
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, (child.returncode, out, err)
    assert "finished" not in out
    assert len(webhook.requests) == 1
    for doc in alert_docs(client, names):  # the send went out, its record did not follow
        assert [d["state"] for d in doc["deliveries"]] == ["sending"]

    time.sleep(1.2)  # past the 1 s lease of the dead worker's claim
    policy = DeliveryPolicy(retry=FAST.retry, lease_seconds=1.0)
    report = deliver_pending(client, names, ruleset.channels, now=send_at, policy=policy)
    assert report.messages == 1 and len(report.sent) == len(alerts)
    assert webhook.wait_for(2, timeout=5)
    assert deliver_pending(client, names, ruleset.channels, now=send_at, policy=policy).messages == 0

    # at-least-once: the receiver got the message twice, with the same key both times...
    assert len(webhook.requests) == 2
    keys = [message_key(r) for r in webhook.requests]
    assert keys == [expected_key, expected_key]
    assert webhook.requests[0].json["message"] == webhook.requests[1].json["message"]
    # ...so a receiver deduplicating by that key handles exactly one alert (or one digest)
    assert webhook.distinct_keys() == {expected_key}
    seen: dict[str, Any] = {}
    for request in webhook.requests:
        seen.setdefault(request.idempotency_key, request.json)
    assert len(seen) == 1
    if mode == "digest":
        body = seen[expected_key]["message"]
        assert all(f"Alert-Id: {a.id}" in body for a in alerts)
    for doc in alert_docs(client, names):
        assert [d["state"] for d in doc["deliveries"]] == ["sent"]


def test_every_message_carries_its_idempotency_key(opensearch_client, initialized_names, webhook, smtp, monkeypatch):
    from newsdrift.alert.messages import digest_key

    client, names = opensearch_client, initialized_names
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url("keys"), mail_url(smtp.port), KEYED_RULES)
    now = utcnow()
    instant = match_articles(
        client, names, [article("i1", "Llama key one"), article("i2", "Llama key two")], ruleset, now=now
    )
    digested = match_articles(
        client, names, [article(f"g{i}", f"Open weights key {i}") for i in range(2)], ruleset, now=now
    )
    due = parse_time(digested[0].details["digest_due_at"]) + timedelta(seconds=1)
    report = deliver_pending(client, names, ruleset.channels, now=due, policy=FAST)
    assert report.messages == 6 and report.failed == []  # 2 alerts x 2 channels + 1 digest x 2 channels

    expected = {a.id for a in instant} | {digest_key(a.id for a in digested)}
    assert webhook.wait_for(3)
    assert sorted(message_key(r) for r in webhook.requests) == sorted(expected)
    assert webhook.distinct_keys() == expected

    assert len(smtp.messages) == 3
    mail_keys = []
    for index, message in enumerate(smtp.messages):
        footer = smtp.body(index).rstrip().rsplit("\n", 1)[-1]
        assert footer == f"Idempotency-Key: {message['Idempotency-Key']}", footer
        mail_keys.append(message["Idempotency-Key"])
    assert sorted(mail_keys) == sorted(expected)

    assert test_channel(ruleset.channels["hook"]) == (True, None)
    assert webhook.wait_for(4)
    assert message_key(webhook.requests[-1]).startswith("test-")


def test_tokens_in_channel_urls_are_masked_but_plain_path_words_are_not():
    from newsdrift.secrets import url_fragments

    fragments = url_fragments("slack://T1A2B3C4D/B5E6F7G8H/abcdefghijklmnopqrstuvwx/#news")
    assert {"T1A2B3C4D", "B5E6F7G8H", "abcdefghijklmnopqrstuvwx"} <= fragments
    assert "alerts" not in url_fragments("json://hooks.example.org/alerts/newsroom?format=json")
    assert "s3cr3tkey" in url_fragments("json://hooks.example.org/alerts?key=s3cr3tkey")


def test_one_redact_masks_url_credentials_and_registered_tokens():
    from newsdrift.secrets import redact, register_secret

    register_secret("json://hooks.example.org/T0k3nAbCdEf99")
    text = redact("at https://admin:S3cret@os.example:9200/_bulk, hook json://hooks.example.org/T0k3nAbCdEf99")
    assert text == "at https://os.example:9200/_bulk, hook ***"
