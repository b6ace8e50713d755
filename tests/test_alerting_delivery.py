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

from newsdrift.alerting import (
    DeliveryPolicy,
    RetryPolicy,
    deliver_pending,
    list_alerts,
    match_articles,
    parse_rules,
    sync_rules,
    test_channel,
)
from newsdrift.alerting.documents import parse_time, utcnow
from newsdrift.alerting.receivers import WebhookReceiver

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
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port, authenticator=_authenticator,
                            auth_require_tls=False)
    controller.start()
    yield recorder
    controller.stop()


def mail_url(port: int) -> str:
    return (f"mailto://alerts:{SMTP_PASSWORD}@127.0.0.1:{port}"
            "?from=newsdrift@example.org&to=desk@example.org&mode=insecure")


RULES = {
    "channels": {"hook": {"url_env": "NEWSDRIFT_TEST_HOOK"}, "mail": {"url_env": "NEWSDRIFT_TEST_MAIL"}},
    "rules": [
        {"name": "llama", "channels": ["hook", "mail"], "match": {"any": ["llama"]}},
        {"name": "weights-digest", "channels": ["hook"], "mode": "digest", "every_minutes": 60,
         "match": {"any": ["weights"]}},
    ],
}


def article(article_id: str, title: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return article_id, {
        "article_id": article_id, "title": title, "text": title, "source": "Wire",
        "url": f"https://wire.example/{article_id}", "published_at": "2026-11-20T10:00:00+00:00",
        "story_cluster_id": article_id, **fields,
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


def test_webhook_and_email_receive_exactly_the_expected_messages(opensearch_client, initialized_names, webhook,
                                                                 smtp, monkeypatch):
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
    assert [p["title"] for p in payloads] == ["newsdrift [llama]: Llama licence questions",
                                              "newsdrift [llama]: Meta ships Llama 4"]
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
            "hook": ("sent", 1), "mail": ("sent", 1)}
        assert all(parse_time(d["sent_at"]) for d in doc["deliveries"])

    # re-running matching and delivery sends nothing twice
    assert match_articles(client, names, docs, ruleset) == []
    again = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert (again.sent, again.messages) == ([], 0)
    assert len(webhook.requests) == 2 and len(smtp.messages) == 2


def test_a_down_channel_is_retried_and_delivered_once_it_is_back(opensearch_client, initialized_names, smtp,
                                                                 monkeypatch):
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
        assert sorted(r.json["title"] for r in back.requests) == ["newsdrift [llama]: Llama one",
                                                                  "newsdrift [llama]: Llama two"]
        assert deliver_pending(client, names, ruleset.channels, policy=FAST).sent == []
        assert len(back.requests) == 2
    for doc in alert_docs(client, names):
        hook = next(d for d in doc["deliveries"] if d["channel"] == "hook")
        assert doc["delivery_state"] == "sent" and hook["state"] == "sent" and "error" not in hook
    assert len(smtp.messages) == 2


def test_missing_channel_url_keeps_alerts_pending_until_it_is_set(opensearch_client, initialized_names, webhook,
                                                                  monkeypatch):
    client, names = opensearch_client, initialized_names
    rules = {"channels": RULES["channels"], "rules": [{"name": "llama", "channels": ["mail", "hook"],
                                                      "match": {"any": ["llama"]}}]}
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url(), None, rules)
    match_articles(client, names, [article("a1", "Llama one")], ruleset)
    report = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert [c for _, c in report.sent] == ["hook"]
    (doc,) = alert_docs(client, names)
    mail = next(d for d in doc["deliveries"] if d["channel"] == "mail")
    assert mail["state"] == "failed" and "NEWSDRIFT_TEST_MAIL is not set" in mail["error"]

    with_smtp = SmtpRecorder()
    with_smtp.port = free_port()
    controller = Controller(with_smtp, hostname="127.0.0.1", port=with_smtp.port,
                            authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    try:
        monkeypatch.setenv("NEWSDRIFT_TEST_MAIL", mail_url(with_smtp.port))
        report = deliver_pending(client, names, ruleset.channels, policy=FAST)
        assert [c for _, c in report.sent] == ["mail"] and len(with_smtp.messages) == 1
    finally:
        controller.stop()
    assert len(webhook.requests) == 1


def test_digest_rules_send_one_message_per_channel_when_due(opensearch_client, initialized_names, webhook,
                                                           monkeypatch):
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
    rules = {"channels": RULES["channels"], "rules": [{"name": "llama", "channels": ["hook"],
                                                      "match": {"any": ["llama"]}}]}
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


def test_secrets_never_reach_logs_records_or_errors(opensearch_client, initialized_names, smtp, monkeypatch,
                                                    caplog):
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
        client.search(index=names.alert_rules, body={"size": 100})["hits"]["hits"])
    visible = "\n".join([caplog.text, stored, error, json.dumps(report.to_json()),
                         json.dumps(list_alerts(client, names))])
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
        opensearch_client, initialized_names, webhook, monkeypatch):
    from newsdrift.alerting.delivery import _pending_hits

    client, names = opensearch_client, initialized_names
    rules = {"channels": RULES["channels"], "rules": [{"name": "llama", "channels": ["hook"],
                                                      "match": {"any": ["llama"]}}]}
    ruleset = prepared(client, names, monkeypatch, webhook.apprise_url(), None, rules)
    alerts = match_articles(client, names, [article(f"p{i}", f"Llama page {i}") for i in range(7)], ruleset)
    paged = _pending_hits(client, names, limit=100, page=3)
    assert sorted(h["_id"] for h in paged) == sorted(a.id for a in alerts)

    # a worker claimed two deliveries and died before sending: one claim is fresh, one is past its lease
    now = utcnow()
    for alert, started in ((alerts[0], now - timedelta(seconds=10)), (alerts[1], now - timedelta(hours=1))):
        client.update(index=names.alerts, id=alert.id, refresh=True, body={"doc": {
            "deliveries": [{"channel": "hook", "state": "sending", "attempts": 1,
                            "last_attempt_at": started.isoformat()}]}})
    report = deliver_pending(client, names, ruleset.channels, policy=FAST)
    assert len(report.sent) == 6 and alerts[0].id not in {a for a, _ in report.sent}
    assert webhook.wait_for(6) and len(webhook.requests) == 6
    fresh = client.get(index=names.alerts, id=alerts[0].id)["_source"]["deliveries"][0]
    assert fresh["state"] == "sending"  # still owned by its (maybe slow) worker
    stale = client.get(index=names.alerts, id=alerts[1].id)["_source"]["deliveries"][0]
    assert (stale["state"], stale["attempts"]) == ("sent", 2)
