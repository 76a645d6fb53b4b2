"""Prometheus metrics of ``proclient serve`` (server/metrics.py, ``[server] metrics_port``).

The middleware first, in-process on a small app (route templates, problem codes, a database
error), then a real ``proclient serve`` subprocess over HTTPS on loopback: creations with
their INSi look-ups for patients with known names and NIRs, a replay, a 429, a path holding a
NIR; its metrics port scraped and parsed with prometheus_client's parser: the counts moved as
they should, every route label is a template, and nothing a person could be found by (name,
NIR with or without its key, national id, login, e-mail, token, the client's address) is in
the whole scrape. With two worker processes the supervisor serves the sum of both.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from proclient.core.domain import DomainError, WebAccess
from proclient.credentials.software import unlock_demo
from proclient.server.metrics import Instruments, RequestMetrics, problem_label
from proclient.server.problems import Problem, install_problem_handlers
from proclient.service.client import creation_body

from .helpers import card_body, creation, make_nir, patient, register_file
from .serve_process import Serve, free_port, start_serve, wait_until

Samples = dict[tuple[str, frozenset], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape, by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def routes(found: Samples) -> set[str]:
    return {
        dict(labels)["route"]
        for name, labels in found
        if name.startswith("proclient_http_request") and "route" in dict(labels)
    }


# --- the middleware, in-process -------------------------------------------------------------------


@pytest.fixture
def small_app() -> tuple[FastAPI, Instruments]:
    instruments = Instruments(CollectorRegistry())
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestMetrics, instruments=instruments)

    @app.get("/v1/things/{thing_id}")
    def thing(thing_id: str) -> dict:
        return {"ok": True}

    @app.post("/v1/limited")
    def limited() -> dict:
        raise Problem("AUTH_RATE_LIMITED", headers={"Retry-After": "60"})

    @app.post("/v1/odd")
    def odd() -> dict:
        raise DomainError("DUPONT_JEAN", "a code outside the vocabulary")

    @app.get("/v1/locked")
    def locked() -> dict:
        raise sqlite3.OperationalError("database is locked")

    return app, instruments


async def test_the_middleware_counts_by_template_and_problem_code(small_app):
    app, instruments = small_app
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/v1/things/152033523804587")).status_code == 200
        assert (await http.get("/v1/things/255017511203450")).status_code == 200
        assert (await http.post("/v1/limited")).status_code == 429
        assert (await http.post("/v1/odd")).status_code == 422
        assert (await http.get("/v1/locked")).status_code == 500
        assert (await http.get("/v1/nowhere/152033523804587")).status_code == 404
        assert (await http.request("BREW", "/v1/things/x")).status_code == 405
    text = generate_latest(instruments.registry).decode()
    found = samples(text)
    requests = "proclient_http_requests_total"
    assert value(found, requests, route="/v1/things/{thing_id}", method="GET", status="200") == 2
    assert value(found, requests, route="/v1/limited", method="POST", status="429") == 1
    assert value(found, requests, route="/v1/locked", method="GET", status="500") == 1
    assert value(found, requests, route="unmatched", method="GET", status="404") == 1
    assert value(found, requests, route="/v1/things/{thing_id}", method="OTHER", status="405") == 1
    problems = "proclient_problems_total"
    assert value(found, problems, status="429", code="AUTH_RATE_LIMITED") == 1
    assert value(found, problems, status="422", code="OTHER") == 1  # not "DUPONT_JEAN"
    assert value(found, problems, status="500", code="INTERNAL") == 1
    assert value(found, problems, status="404", code="NOT_FOUND") == 1
    assert value(found, "proclient_database_errors_total", kind="operational") == 1
    count = "proclient_http_request_duration_seconds_count"
    assert value(found, count, route="/v1/things/{thing_id}") == 3
    assert routes(found) == {
        "/v1/things/{thing_id}",
        "/v1/limited",
        "/v1/odd",
        "/v1/locked",
        "unmatched",
    }
    for secret in ("152033523804587", "255017511203450", "DUPONT", "BREW", "/v1/nowhere"):
        assert secret not in text


def test_only_the_services_own_problem_codes_become_labels():
    assert problem_label("AUTH_RATE_LIMITED") == "AUTH_RATE_LIMITED"
    assert problem_label("VALIDATION") == "VALIDATION"
    assert problem_label("NIR_KEY") == "NIR_KEY"
    for made_up in ("DUPONT", "152033523804587", "jean.dupont@exemple.fr", "", None, 42):
        assert problem_label(made_up) == "OTHER"


# --- a real `proclient serve` -------------------------------------------------------------------

PEOPLE = [
    patient(make_nir(1, 1961, "04", 611), "19610412", "QUINCAMPOIX", "AURELIEN"),
    patient(make_nir(2, 1973, "09", 612), "19730921", "VERMANDOIS", "ZELIE"),
    patient(make_nir(1, 1988, "02", 613), "19880203", "KERGUELEN", "THEOPHILE"),
    patient(make_nir(2, 1995, "11", 614), "19951130", "BRISSAC", "MAELYS"),
]
EMAIL = "zelie.vermandois@exemple.fr"


def forbidden_strings(serve: Serve, answers: list[dict], tokens: list[str]) -> list[str]:
    """What must never be in a scrape: the patients' names and NIRs (with and without their
    key), the professionals' national ids, the web login and password handed out, the
    e-mail, the session tokens, the client's address."""
    found = []
    for who in PEOPLE:
        found += [who.last_name, who.first_name, who.ins.value, who.ins.value[:13]]
    found += [demo.professional.id_nat for demo in serve.pki.professionals]
    for answer in answers:
        web = answer.get("web_access") or {}
        found += [web[key] for key in ("login", "initial_password") if web.get(key)]
    return found + [EMAIL, "127.0.0.1", *tokens]


@pytest.mark.slow
def test_a_served_run_is_counted_and_no_health_data_reaches_the_scrape(tmp_path, demo_pki_cache):
    metrics_port = free_port()
    register = register_file(tmp_path / "register.json", PEOPLE)
    server = {"metrics_port": metrics_port, "challenges_per_minute": 4}
    serve = start_serve(
        tmp_path / "home", server=server, register=register, pki_cache=demo_pki_cache
    )
    try:
        token = serve.login(unlock_demo(serve.pki.default))
        auth = {"Authorization": f"Bearer {token}"}
        answers, keys = [], []
        with httpx.Client(base_url=serve.url, verify=serve.context, headers=auth) as http:
            for n, who in enumerate(PEOPLE):
                found = http.post("/v1/insi/card", json=card_body(who))
                assert found.status_code == 200 and found.json()["code"] == "00", found.text
                web = WebAccess(email=EMAIL) if n == 1 else None
                keys.append(str(uuid.uuid4()))
                made = http.post(
                    "/v1/dmp",
                    json=creation_body(creation(who, web=web)),
                    headers={"Idempotency-Key": keys[-1]},
                )
                assert made.status_code == 201, made.text
                answers.append(made.json())
            assert answers[1]["web_access"]["initial_password"]
            replay = http.post(
                "/v1/dmp",
                json=creation_body(creation(PEOPLE[0])),
                headers={"Idempotency-Key": keys[0]},
            )
            assert replay.headers.get("Idempotent-Replayed") == "true"
            nobody = {**card_body(PEOPLE[0]), "nir": make_nir(1, 1961, "04", 699)}
            assert http.post("/v1/insi/card", json=nobody).json()["code"] == "01"
            # A path holding a NIR and a name: counted, but never by its path.
            assert http.get(f"/v1/dmp/{PEOPLE[2].ins.value}/KERGUELEN").status_code == 404
            limited = None
            for _ in range(10):  # the login took one challenge of the 4 a minute
                answer = http.post("/v1/auth/challenge")
                if answer.status_code == 429:
                    limited = answer
                    break
            assert limited is not None and limited.json()["code"] == "AUTH_RATE_LIMITED"
        # A request is counted once its answer is sent: the client may read the last answer
        # before its count is written. Scrape until the last one (the 429) is in.
        deadline = time.monotonic() + 10
        text = serve.scrape()
        while 'status="429"' not in text and time.monotonic() < deadline:
            time.sleep(0.05)
            text = serve.scrape()
    finally:
        assert serve.stop() in (0, -signal.SIGTERM), serve.text()
    found = samples(text)
    made = len(PEOPLE)
    assert value(found, "proclient_dmp_writes_total", action="creation", origin="online") == made
    requests = "proclient_http_requests_total"
    assert value(found, requests, route="/v1/dmp", method="POST", status="201") == made + 1
    assert value(found, "proclient_http_request_duration_seconds_count", route="/v1/dmp") == (
        made + 1
    )
    assert value(found, "proclient_insi_answers_total", lookup="card", code="00") == made
    assert value(found, "proclient_insi_answers_total", lookup="card", code="01") == 1
    assert value(found, requests, route="/v1/auth/challenge", method="POST", status="429") == 1
    assert value(found, "proclient_problems_total", status="429", code="AUTH_RATE_LIMITED") == 1
    assert value(found, requests, route="unmatched", method="GET", status="404") == 1
    assert value(found, "process_cpu_seconds_total") > 0  # one process: its own figures too
    from proclient.server.app import openapi_document

    templates = set(openapi_document()["paths"]) | {"/v1/openapi.json", "unmatched"}
    assert "/v1/dmp" in routes(found) and routes(found) <= templates
    for secret in forbidden_strings(serve, answers, [token]):
        assert secret.lower() not in text.lower(), secret
    assert f"Métriques Prometheus sur http://127.0.0.1:{metrics_port}/metrics" in (
        serve.stdout.read_text(encoding="utf-8")
    )


@pytest.mark.slow
def test_two_workers_are_summed_by_the_supervisor(tmp_path, demo_pki_cache):
    """3 requests answered by one worker, 5 by the other: the supervisor's scrape counts 8; a
    worker killed and replaced takes none of its counts away; the supervisor's private folder
    of counts is gone once it stops."""
    serve = start_serve(
        tmp_path / "home",
        server={"metrics_port": free_port()},
        workers=2,
        pki_cache=demo_pki_cache,
    )
    health = {"route": "/v1/health", "method": "GET", "status": "200"}
    try:
        first, second = serve.workers()
        folder = _multiproc_dir(first)
        assert folder is not None and folder == _multiproc_dir(second)
        assert Path(folder).is_dir() and oct(Path(folder).stat().st_mode & 0o777) == "0o700"
        before = value(samples(serve.scrape()), "proclient_http_requests_total", **health)
        for worker, count in ((first, 3), (second, 5)):
            with httpx.Client(verify=serve.context) as http:
                with serve.only(worker):  # the connection is this worker's (keep-alive)
                    assert http.get(f"{serve.url}/v1/health").status_code == 200
                for _ in range(count - 1):
                    assert http.get(f"{serve.url}/v1/health").status_code == 200
        deadline = time.monotonic() + 10  # the last answer may be read before it is counted
        after = value(samples(serve.scrape()), "proclient_http_requests_total", **health)
        while after - before < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
            after = value(samples(serve.scrape()), "proclient_http_requests_total", **health)
        assert after - before == 8
        assert "process_cpu_seconds_total" not in serve.scrape()  # a sum has no process
        serve_workers = set(serve.workers())
        os.kill(first, signal.SIGKILL)
        wait_until(
            lambda: len(set(serve.workers()) - serve_workers) == 1, "a worker replacing it", 60
        )
        kept = value(samples(serve.scrape()), "proclient_http_requests_total", **health)
        assert kept >= after
    finally:
        assert serve.stop() == 0, serve.text()
    assert not Path(folder).exists()


def _multiproc_dir(pid: int) -> str | None:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    for entry in environ:
        if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
            return entry.split(b"=", 1)[1].decode()
    return None


@pytest.mark.slow
def test_a_connection_refused_by_the_per_address_cap_is_counted(tmp_path, demo_pki_cache):
    """max_connections_per_address = 1: a second connection from 127.0.0.1 while the first
    is open is refused at once (503 SERVICE_BUSY) and counted, without any label."""
    serve = start_serve(
        tmp_path / "home",
        server={"metrics_port": free_port(), "max_connections_per_address": 1},
        pki_cache=demo_pki_cache,
    )
    try:
        with (
            httpx.Client(verify=serve.context) as first,
            httpx.Client(verify=serve.context) as second,
        ):
            assert first.get(f"{serve.url}/v1/health").status_code == 200  # kept open
            refused = second.get(f"{serve.url}/v1/health")
            assert refused.status_code == 503 and refused.json()["code"] == "SERVICE_BUSY"
        deadline = time.monotonic() + 10
        found = samples(serve.scrape())
        while not value(found, "proclient_connections_refused_total") and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
            found = samples(serve.scrape())
    finally:
        assert serve.stop() in (0, -signal.SIGTERM), serve.text()
    assert value(found, "proclient_connections_refused_total") == 1
