"""Bank integration API: signed pulls and pushes, scope, refusals, idempotency, the query log.

Every request here is signed by the example client of docs/bank-api/ (so the published client
stays correct) and sent through the Django test client.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import random
import secrets
import time
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.utils import timezone

from xinrong.accounts.services.api_keys import api_key_create, api_key_revoke
from xinrong.credit.models import QueryLog
from xinrong.marketplace.choices import ApplicationEventKind, ApplicationStatus, LoanStatus
from xinrong.marketplace.models import ApplicationEvent, Loan, LoanApplication, Repayment
from xinrong.marketplace.services import applications as application_services
from xinrong.marketplace.tests.factories import published_product
from xinrong.marketplace.tests.test_applications import _apply, _to

S = ApplicationStatus
ROOT = Path(__file__).resolve().parents[4]
BASE = "/api/v1/bank"


def _example_client() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "xinrong_example_client", ROOT / "docs" / "bank-api" / "example_client.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = _example_client()


class BankSystem:
    """An institution's system: signs with the example client, sends through the test client."""

    def __init__(self, client: Any, raw_key: str, algorithm: str = "HMAC-SHA256") -> None:
        self.client, self.raw_key, self.algorithm = client, raw_key, algorithm

    def send(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        idem: str | None = None,
        sent_body: bytes | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
        secret: str | None = None,
        drop: tuple[str, ...] = (),
    ) -> Any:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = EXAMPLE.sign_request(
            api_key=secret or self.raw_key,
            method=method,
            path=path,
            body=body,
            algorithm=self.algorithm,
            timestamp=timestamp,
            nonce=nonce,
        )
        if secret is not None:  # signed with a wrong secret, but naming this key
            headers["X-Xinrong-Key"] = self.raw_key.split("_")[1]
        if method != "GET":
            headers["Idempotency-Key"] = idem or secrets.token_hex(12)
        for name in drop:
            headers.pop(name, None)
        return self.client.generic(
            method,
            path,
            data=body if sent_body is None else sent_body,
            content_type="application/json",
            headers=headers,
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.send("GET", BASE + path, **kw)

    def post(self, path: str, payload: dict[str, Any], **kw: Any) -> Any:
        return self.send("POST", BASE + path, payload, **kw)


@pytest.fixture(autouse=True)
def _feed_without_lag(settings):
    """Serve changes at once: these tests pull right after each change (the lag has its test)."""
    settings.XINRONG_API_FEED_LAG_SECONDS = 0


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def product(bank, operator):
    return published_product(bank["loan_officer"], operator, code="LOAN-A")


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


def _system(client, admin, algorithm="HMAC-SHA256") -> BankSystem:
    _key, raw = api_key_create(organisation=admin.organisation, name="信贷系统", actor=admin)
    return BankSystem(client, raw, algorithm)


@pytest.fixture
def system(client, bank):
    return _system(client, bank["institution_admin"])


@pytest.fixture
def other_system(client, make_user):
    """Another bank's system."""
    return _system(client, make_user("bank", ["institution_admin"]))


@pytest.fixture
def app(enterprise_user, entity, product):
    return _apply(enterprise_user, entity, product, purpose="采购原材料")


def _error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["message"]
    return response.status_code, body["code"]


# ---------------------------------------------------------------- signing


@pytest.mark.parametrize("algorithm", ["HMAC-SHA256", "HMAC-SM3"])
def test_a_signed_pull_returns_the_application_with_its_authorised_archive(
    client, bank, app, entity, algorithm
):
    system = _system(client, bank["institution_admin"], algorithm)
    response = system.get(f"/applications/{app.number}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == app.number
    assert body["status"] == "submitted" and body["next_actions"] == ["accept", "reject"]
    assert body["product"] == {"code": "LOAN-A", "name": "测试产品LOAN-A", "version": 1}
    assert body["entity"]["uscc"] == entity.uscc
    assert Decimal(body["amount"]) == Decimal("500000")
    assert [e["kind"] for e in body["timeline"]] == ["submitted"]
    assert body["archive"]["authorised"] is True and body["archive"]["scope"] == "full"


def test_every_archive_read_through_the_pull_is_in_the_query_log(system, app, entity):
    before = QueryLog.objects.filter(entity=entity, channel="api").count()
    system.get("/applications")
    system.get(f"/applications/{app.number}")
    logs = QueryLog.objects.filter(entity=entity, channel="api").order_by("id")
    assert logs.count() == before + 2
    last = logs.last()
    assert last is not None
    assert last.user.username.startswith("api-")
    assert last.organisation_id == app.institution_id
    assert last.authorisation_id == app.authorisation_id
    # without the archive nothing is read and nothing is logged
    system.get("/applications?archive=false")
    assert QueryLog.objects.filter(entity=entity, channel="api").count() == before + 2


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("kw", "status", "code"),
    [
        ({"secret": "xr_000000000000_not-the-secret"}, 401, "bad_signature"),
        ({"sent_body": b'{"note": "changed"}'}, 401, "bad_signature"),
        ({"timestamp": -400}, 401, "timestamp_out_of_window"),
        ({"timestamp": +400}, 401, "timestamp_out_of_window"),
        ({"drop": ("X-Xinrong-Signature",)}, 401, "signature_missing"),
        ({"drop": ("X-Xinrong-Nonce",)}, 401, "signature_missing"),
        ({"nonce": "too-short"}, 401, "invalid_nonce"),
    ],
)
def test_requests_that_are_not_correctly_signed_are_refused_and_change_nothing(
    system, app, kw, status, code
):
    if "timestamp" in kw:
        kw["timestamp"] += _now()
    response = system.post(f"/applications/{app.number}/accept", {"note": "受理"}, **kw)
    assert _error(response) == (status, code)
    app.refresh_from_db()
    assert app.status == S.SUBMITTED


def test_a_replayed_request_is_refused_by_its_nonce(system, app):
    nonce = secrets.token_hex(16)
    first = system.get(f"/applications/{app.number}", nonce=nonce)
    assert first.status_code == 200
    assert _error(system.get(f"/applications/{app.number}", nonce=nonce)) == (409, "nonce_reused")


def test_unknown_and_revoked_keys_are_refused(client, system, bank, app):
    from xinrong.accounts.models import ApiKey

    stranger = BankSystem(client, "xr_ffffffffffff_" + "x" * 43)
    assert _error(stranger.get("/applications")) == (401, "unknown_key")
    key = ApiKey.objects.get(prefix=system.raw_key.split("_")[1])
    api_key_revoke(key=key, actor=bank["institution_admin"])
    assert _error(system.get("/applications")) == (401, "key_revoked")


def test_plain_api_keys_and_sessions_do_not_reach_the_bank_api(client, system, bank):
    response = client.get(f"{BASE}/applications", headers={"X-API-Key": system.raw_key})
    assert _error(response) == (401, "signature_missing")
    client.force_login(bank["loan_officer"])
    assert client.get(f"{BASE}/applications").status_code == 401


# ---------------------------------------------------------------- scope


def test_another_institutions_application_and_loan_are_not_found(system, other_system, app, bank):
    assert _error(other_system.get(f"/applications/{app.number}")) == (404, "not_found")
    response = other_system.post(f"/applications/{app.number}/accept", {})
    assert _error(response) == (404, "not_found")
    assert other_system.get("/applications").json()["results"] == []
    _to(app, S.DISBURSED, bank)
    loan = Loan.objects.get(application=app)
    response = other_system.post(f"/loans/{loan.number}/repayments", {"amount": "100"})
    assert _error(response) == (404, "not_found")
    assert not Repayment.objects.exists()


# ---------------------------------------------------------------- the feed


def test_the_feed_pages_by_cursor_and_returns_changes_after_it(
    system, enterprise_user, entity, bank, operator
):
    apps = []
    for code in ("LOAN-A", "LOAN-B", "LOAN-C"):
        product = published_product(bank["loan_officer"], operator, code=code)
        apps.append(_apply(enterprise_user, entity, product))
    first = system.get("/applications?limit=2&archive=false").json()
    assert [r["number"] for r in first["results"]] == [a.number for a in apps[:2]]
    assert first["has_more"] is True
    second = system.get(f"/applications?limit=2&cursor={first['next_cursor']}").json()
    assert [r["number"] for r in second["results"]] == [apps[2].number]
    assert second["has_more"] is False
    empty = system.get(f"/applications?cursor={second['next_cursor']}").json()
    assert empty == {"results": [], "next_cursor": second["next_cursor"], "has_more": False}
    # a change moves the application past the cursor: the next pull picks it up
    assert system.post(f"/applications/{apps[0].number}/accept", {}).status_code == 200
    changed = system.get(f"/applications?cursor={second['next_cursor']}").json()
    assert [(r["number"], r["status"]) for r in changed["results"]] == [
        (apps[0].number, "accepted")
    ]
    by_status = system.get("/applications?status=submitted&archive=false").json()
    assert {r["number"] for r in by_status["results"]} == {apps[1].number, apps[2].number}


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=nonsense", "status"), ("cursor=%25%25%25", "cursor"), ("limit=500", "limit")],
)
def test_bad_feed_parameters_are_422_naming_the_field(system, app, query, field):
    response = system.get(f"/applications?{query}")
    assert _error(response)[0] == 422
    assert response.json()["extra"]["field"] == field


# ---------------------------------------------------------------- pushes


def _filed_days_ago(app: Any, days: int) -> None:
    """Date the application back: a contract cannot be signed before its application."""
    LoanApplication.objects.filter(pk=app.pk).update(
        submitted_at=timezone.now() - dt.timedelta(days=days)
    )


def test_the_whole_lifecycle_can_be_pushed_from_the_banks_system(system, app):
    number = app.number
    _filed_days_ago(app, 45)
    start = (timezone.localdate() - dt.timedelta(days=40)).isoformat()  # one instalment past due
    steps = [
        ("accept", {"note": "资料齐全"}, 200, S.ACCEPTED),
        ("review", {}, 200, S.UNDER_REVIEW),
        ("approve", {"amount": "400000", "rate": "4.35", "term_months": 12}, 200, S.APPROVED),
        ("contract", {"contract_no": "HT-2026-001", "signed_on": start}, 200, S.CONTRACT_SIGNED),
        (
            "disburse",
            {"amount": "400000", "loan_no": "JJ-2026-001", "disbursed_on": start},
            201,
            S.DISBURSED,
        ),
    ]
    for action, payload, status, target in steps:
        response = system.post(f"/applications/{number}/{action}", payload)
        assert response.status_code == status, (action, response.content)
        assert response.json()["status"] == target
        assert response.json()["archive"] is None
    body = response.json()
    assert body["loan"]["bank_loan_no"] == "JJ-2026-001" and body["loan"]["number"].startswith("DK")
    assert Decimal(body["approved_rate"]) == Decimal("4.35")
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    refused = system.post("/loans/JJ-2026-001/overdue", {"as_of": future})
    assert refused.status_code == 422 and refused.json()["extra"]["field"] == "as_of"
    overdue = system.post("/loans/JJ-2026-001/overdue", {})
    assert overdue.status_code == 200, overdue.content
    assert overdue.json()["status"] == LoanStatus.OVERDUE and overdue.json()["overdue_days"] > 0
    repaid = system.post("/loans/JJ-2026-001/repayments", {"amount": "1000.00"})
    assert repaid.status_code == 201, repaid.content
    assert Decimal(repaid.json()["interest"]) + Decimal(repaid.json()["principal"]) == 1000
    default = system.post("/loans/JJ-2026-001/default", {"note": "逾期超过 90 天，认定违约"})
    assert default.status_code == 200 and default.json()["status"] == LoanStatus.DEFAULTED
    events = ApplicationEvent.objects.filter(application=app).exclude(kind="submitted")
    assert events.count() == 8
    assert all(e.via_api for e in events)
    assert {e.organisation_id for e in events} == {app.institution_id}


def test_a_rejection_carries_reason_and_note(system, app):
    response = system.post(
        f"/applications/{app.number}/reject", {"reason": "capacity", "note": "流水不足"}
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert (app.status, app.reject_reason, app.reject_note) == (S.REJECTED, "capacity", "流水不足")


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("approve", {"amount": "abc", "rate": "4", "term_months": 12}, "amount"),
        ("approve", {"amount": "400000", "rate": "99", "term_months": 12}, "rate"),
        ("approve", {"amount": "400000.001", "rate": "4", "term_months": 12}, "amount"),
        ("reject", {"reason": "nonsense", "note": "x"}, "reason"),
        ("reject", {"reason": "credit", "note": ""}, "note"),
        ("contract", {"contract_no": "HT", "signed_on": "2026-13-40"}, "signed_on"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_applies_nothing(
    system, app, bank, action, payload, field
):
    if action != "reject":
        app = _to(app, S.UNDER_REVIEW if action == "approve" else S.APPROVED, bank)
    before = app.status
    response = system.post(f"/applications/{app.number}/{action}", payload)
    assert response.status_code == 422, response.content
    assert response.json()["extra"]["field"] == field
    app.refresh_from_db()
    assert app.status == before


def test_a_step_the_status_does_not_allow_is_409(system, app):
    response = system.post(f"/applications/{app.number}/disburse", {"amount": "1"})
    assert _error(response) == (409, "invalid_transition")


def test_a_body_that_is_not_json_is_a_4xx_not_a_500(system, app):
    response = system.post(f"/applications/{app.number}/accept", {}, sent_body=b"{not json")
    # the signature covers the body: sign what is sent
    assert response.status_code == 401
    body = b"{not json"
    headers = EXAMPLE.sign_request(
        api_key=system.raw_key, method="POST", path=f"{BASE}/applications/{app.number}/accept",
        body=body,
    )  # fmt: skip
    headers["Idempotency-Key"] = "bad-json-0001"
    response = system.client.generic(
        "POST",
        f"{BASE}/applications/{app.number}/accept",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert _error(response) == (400, "invalid_json")
    assert response.json()["extra"]["field"] == "body" and "JSON" in response.json()["message"]


def test_writes_need_an_idempotency_key(system, app):
    response = system.post(f"/applications/{app.number}/accept", {}, drop=("Idempotency-Key",))
    assert _error(response) == (422, "invalid_input")
    assert response.json()["extra"]["field"] == "Idempotency-Key"
    short = system.post(f"/applications/{app.number}/accept", {}, idem="short")
    assert short.status_code == 422
    app.refresh_from_db()
    assert app.status == S.SUBMITTED


# ---------------------------------------------------------------- idempotency


def test_a_resent_write_returns_the_first_answer_and_applies_once(system, app):
    path = f"/applications/{app.number}/accept"
    first = system.post(path, {"note": "受理"}, idem="accept-0001")
    again = system.post(path, {"note": "受理"}, idem="accept-0001")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ApplicationEvent.objects.filter(application=app, kind="accepted").count() == 1


def test_the_same_idempotency_key_with_another_body_is_422(system, app):
    path = f"/applications/{app.number}/accept"
    system.post(path, {"note": "受理"}, idem="accept-0002")
    response = system.post(path, {"note": "另一条"}, idem="accept-0002")
    assert _error(response) == (422, "idempotency_mismatch")
    assert response.json()["extra"]["field"] == "Idempotency-Key"


def test_a_failed_write_may_be_retried_with_the_same_key(system, app, bank):
    path = f"/applications/{app.number}/review"
    assert system.post(path, {}, idem="review-0001").status_code == 409  # not accepted yet
    application_services.application_accept(application=app, actor=bank["loan_officer"])
    assert system.post(path, {}, idem="review-0001").status_code == 200


def test_a_thousand_messages_sent_twice_leave_exactly_one_effect_each(
    system, enterprise_user, entity, bank, operator
):
    loans = []
    for code in ("LOAN-A", "LOAN-B", "LOAN-C", "LOAN-D", "LOAN-E"):
        product = published_product(bank["loan_officer"], operator, code=code)
        app = _to(_apply(enterprise_user, entity, product), S.DISBURSED, bank)
        loans.append(Loan.objects.get(application=app))
    messages = [
        (
            f"repay-{i:04d}-{secrets.token_hex(4)}",
            f"/loans/{loans[i % len(loans)].number}/repayments",
            {"amount": str(Decimal("1.00") + Decimal(i % 50) / 100)},
        )
        for i in range(1000)
    ]
    first: dict[str, Any] = {}
    for idem, path, payload in messages:
        response = system.post(path, payload, idem=idem)
        assert response.status_code == 201, response.content
        first[idem] = response.json()
    resent = messages[:]
    random.Random(5).shuffle(resent)
    for idem, path, payload in resent:
        response = system.post(path, payload, idem=idem)
        assert response.status_code == 201
        assert response.headers["Idempotent-Replayed"] == "true"
        assert response.json() == first[idem]
    assert Repayment.objects.count() == 1000
    assert len({body["id"] for body in first.values()}) == 1000
    assert ApplicationEvent.objects.filter(kind=ApplicationEventKind.REPAID).count() == 1000
    for loan in loans:
        paid = sum(
            (Decimal(p["amount"]) for _i, path, p in messages if loan.number in path),
            Decimal("0"),
        )
        assert sum(r.amount for r in Repayment.objects.filter(loan=loan)) == paid


# ---------------------------------------------------------------- OpenAPI


def test_the_openapi_document_describes_every_bank_operation_and_its_headers(client):
    spec = client.get("/api/v1/openapi.json").json()
    ops = {
        (method, path): op
        for path, item in spec["paths"].items()
        if path.startswith(BASE)
        for method, op in item.items()
    }
    assert set(ops) == {
        ("get", f"{BASE}/applications"),
        ("get", f"{BASE}/applications/{{number}}"),
        *(
            ("post", f"{BASE}/applications/{{number}}/{a}")
            for a in ("accept", "review", "approve", "reject", "contract", "disburse")
        ),
        *(("post", f"{BASE}/loans/{{loan_no}}/{a}") for a in ("repayments", "overdue", "default")),
        ("post", f"{BASE}/loan-history"),
    }
    for (method, _path), op in ops.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in op["summary"])
        assert op["security"] == [{"SignedRequestAuth": []}]
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        expected = {"X-Xinrong-Key", "X-Xinrong-Timestamp", "X-Xinrong-Nonce"}
        expected |= {"X-Xinrong-Signature-Method"}
        if method == "post":
            expected.add("Idempotency-Key")
        assert expected <= set(headers)
        assert all(h.get("description") for h in headers.values())
    scheme = spec["components"]["securitySchemes"]["SignedRequestAuth"]
    assert scheme["name"] == "X-Xinrong-Signature" and "HMAC-SM3" in scheme["description"]


# ---------------------------------------------------------------- the example client itself


class _UrllibResponse:
    def __init__(self, response: Any) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers.items())
        self._body = response.content

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> _UrllibResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_the_example_clients_commands_work_end_to_end(system, app, client, monkeypatch, capsys):
    """Run the example client's CLI with urllib answered by the Django test client."""
    import io
    import urllib.error
    from urllib.parse import urlsplit

    def urlopen(request: Any, timeout: float) -> _UrllibResponse:
        url = urlsplit(request.full_url)
        headers = dict(request.header_items())
        response = client.generic(
            request.get_method(),
            url.path + (f"?{url.query}" if url.query else ""),
            data=request.data or b"",
            content_type=headers.pop("Content-type", "application/json"),
            headers=headers,
        )
        if response.status_code >= 400:
            raise urllib.error.HTTPError(
                request.full_url,
                response.status_code,
                "error",
                dict(response.headers.items()),  # type: ignore[arg-type]
                io.BytesIO(response.content),
            )
        return _UrllibResponse(response)

    monkeypatch.setattr(EXAMPLE.urllib.request, "urlopen", urlopen)
    monkeypatch.setenv("XINRONG_URL", "http://testserver")
    monkeypatch.setenv("XINRONG_API_KEY", system.raw_key)
    assert EXAMPLE.main(["pull", "--status", "submitted", "--no-archive"]) == 0
    assert app.number in capsys.readouterr().out
    assert EXAMPLE.main(["--sm3", "--idempotency-key", "cli-accept-1", "accept", app.number]) == 0
    assert EXAMPLE.main(["--idempotency-key", "cli-accept-1", "accept", app.number]) == 0
    assert "(replayed)" in capsys.readouterr().out
    assert EXAMPLE.main(["review", app.number]) == 0
    approve = ["approve", app.number, "--amount", "400000", "--rate", "4.35", "--term", "12"]
    assert EXAMPLE.main(approve) == 0
    assert EXAMPLE.main(approve) == 1  # a second approval is a new message: refused, 409
    assert "invalid_transition" in capsys.readouterr().out
    app.refresh_from_db()
    assert app.status == S.APPROVED
    assert ApplicationEvent.objects.filter(application=app, kind="accepted").count() == 1
    _filed_days_ago(app, 45)
    start = (timezone.localdate() - dt.timedelta(days=40)).isoformat()  # one instalment past due
    contract = ["contract", app.number, "--contract-no", "HT-CLI-1", "--signed-on", start]
    assert EXAMPLE.main(contract) == 0
    disburse = ["disburse", app.number, "--amount", "400000", "--disbursed-on", start]
    assert EXAMPLE.main([*disburse, "--loan-no", "JJ-CLI-1"]) == 0
    assert '"bank_loan_no": "JJ-CLI-1"' in capsys.readouterr().out
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert EXAMPLE.main(["overdue", "JJ-CLI-1", "--as-of", future]) == 1  # 422, names as_of
    assert '"field": "as_of"' in capsys.readouterr().out
    assert EXAMPLE.main(["--sm3", "overdue", "JJ-CLI-1"]) == 0
    assert EXAMPLE.main(["repay", "JJ-CLI-1", "--amount", "100.00"]) == 0
    assert EXAMPLE.main(["default", "JJ-CLI-1", "--note", "逾期超过 90 天"]) == 0
    loan = Loan.objects.get(application=app)
    assert (loan.bank_loan_no, loan.status) == ("JJ-CLI-1", LoanStatus.DEFAULTED)
    assert app.events.filter(via_api=True).count() == 8  # accepted … defaulted, once each
