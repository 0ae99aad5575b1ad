"""Historical loans through the signed bank API: import, repeat, conflicts, every consistency rule,
the overdue sweep and the one datahub batch per call; and the bank API's date order of contract
and disbursement."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from xinrong.credit.models import LoanWatch
from xinrong.datahub.models import Fact, IngestBatch
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_uscc
from xinrong.marketplace.choices import ApplicationEventKind, ApplicationStatus, LoanStatus
from xinrong.marketplace.models import (
    ApplicationEvent,
    Loan,
    LoanApplication,
    LoanInstalment,
    Repayment,
)
from xinrong.marketplace.schedule import add_months, schedule
from xinrong.marketplace.services.loan_history import MAX_LOANS
from xinrong.marketplace.services.loans import loans_overdue_sweep
from xinrong.marketplace.tests.test_applications import _apply, _to
from xinrong.marketplace.tests.test_bank_api import _error, _system

S = ApplicationStatus
TODAY = timezone.localdate()


@pytest.fixture
def bank(bank_officer, make_user):
    org = bank_officer.organisation
    return {
        "loan_officer": bank_officer,
        "reviewer": make_user("bank", ["reviewer"], org=org),
        "institution_admin": make_user("bank", ["institution_admin"], org=org),
    }


@pytest.fixture
def system(client, bank):
    return _system(client, bank["institution_admin"])


@pytest.fixture(autouse=True)
def _feed_without_lag(settings):
    """Serve changes at once: these tests pull right after an import."""
    settings.XINRONG_API_FEED_LAG_SECONDS = 0


@pytest.fixture
def firms(db):
    return [
        MarketEntityFactory(uscc=valid_uscc(seed=700 + k), name=f"历史借款企业{k}")
        for k in range(3)
    ]


def _loan(
    no: str,
    uscc: str,
    *,
    principal: str = "120000.00",
    rate: str = "6.00",
    method: str = "equal_instalment",
    months: int = 12,
    days_ago: int = 200,
    paid: int | None = None,
    late: int = 0,
    today: dt.date = TODAY,
) -> dict[str, Any]:
    """A loan as a bank sends it: the first ``paid`` instalments (all due ones by default) paid
    ``late`` days after their due date."""
    disbursed = today - dt.timedelta(days=days_ago)
    lines = schedule(
        principal=Decimal(principal),
        annual_rate=Decimal(rate),
        term_months=months,
        method=method,
        start=disbursed,
    )
    repayments = [
        {
            "paid_on": (line.due_on + dt.timedelta(days=late)).isoformat(),
            "amount": str(line.total),
            "principal": str(line.principal),
            "interest": str(line.interest),
        }
        for line in lines
        if line.due_on + dt.timedelta(days=late) <= today
    ][:paid]
    all_paid = len(repayments) == len(lines)
    return {
        "bank_loan_no": no,
        "uscc": uscc,
        "principal": principal,
        "annual_rate": rate,
        "repayment_method": method,
        "applied_on": (disbursed - dt.timedelta(days=20)).isoformat(),
        "contract_signed_on": (disbursed - dt.timedelta(days=3)).isoformat(),
        "disbursed_on": disbursed.isoformat(),
        "maturity_on": add_months(disbursed, months).isoformat(),
        "first_loan": True,
        "renewal": False,
        "repayments": repayments,
        "overdue": [],
        "defaulted_on": None,
        "settled_on": repayments[-1]["paid_on"] if all_paid else None,
    }


def _book(firms, today: dt.date = TODAY) -> list[dict[str, Any]]:
    """Good, late-but-caught-up, behind, defaulted and settled loans."""
    good = _loan("JJ-GOOD", firms[0].uscc, today=today)
    caught_up = _loan("JJ-CAUGHT-UP", firms[1].uscc, late=10, today=today)
    caught_up["overdue"] = [{"on": r["paid_on"], "days": 10} for r in caught_up["repayments"][:2]]
    behind = _loan("JJ-BEHIND", firms[1].uscc, paid=3, today=today)
    first_unpaid = add_months(dt.date.fromisoformat(behind["disbursed_on"]), 4)
    behind["overdue"] = [{"on": (first_unpaid + dt.timedelta(days=30)).isoformat(), "days": 30}]
    defaulted = _loan("JJ-DEFAULT", firms[2].uscc, paid=2, method="equal_principal", today=today)
    gone = add_months(dt.date.fromisoformat(defaulted["disbursed_on"]), 3)
    defaulted["overdue"] = [
        {"on": (gone + dt.timedelta(days=d)).isoformat(), "days": d} for d in (1, 30, 60)
    ]
    defaulted["defaulted_on"] = (gone + dt.timedelta(days=90)).isoformat()
    settled = _loan("JJ-SETTLED", firms[0].uscc, days_ago=500, method="interest_first", today=today)
    settled["first_loan"] = False
    return [good, caught_up, behind, defaulted, settled]


def _import(system, loans, **kw):
    return system.post("/loan-history", {"loans": loans}, **kw)


def _platform_batches() -> int:
    return IngestBatch.objects.filter(source__code="platform").count()


# ---------------------------------------------------------------- a good import


def test_a_loan_book_is_imported_with_schedules_repayments_status_and_one_fact_batch(
    system, firms, bank
):
    book = _book(firms)
    before = _platform_batches()
    response = _import(system, book)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["received"], body["created"], body["present"]) == (5, 5, 0)
    status = {row["bank_loan_no"]: row["status"] for row in body["loans"]}
    assert status == {
        "JJ-GOOD": "current",
        "JJ-CAUGHT-UP": "current",
        "JJ-BEHIND": "overdue",
        "JJ-DEFAULT": "defaulted",
        "JJ-SETTLED": "settled",
    }
    assert _platform_batches() == before + 1
    batch = IngestBatch.objects.get(pk=body["facts_batch"])
    events = 5 + sum(len(x["repayments"]) + len(x["overdue"]) for x in book) + 1 + 1
    assert batch.accepted == events and batch.rejected == 0
    assert Fact.objects.filter(batch=batch).count() == events

    loans = {loan.bank_loan_no: loan for loan in Loan.objects.select_related("application")}
    good = loans["JJ-GOOD"]
    assert good.application.imported and good.application.status == S.REPAYING
    assert good.application.authorisation_id is None
    assert good.institution_id == bank["institution_admin"].organisation_id
    assert good.term_months == 12 and good.overdue_days == 0
    paid_principal = sum(Decimal(r["principal"]) for r in book[0]["repayments"])
    assert good.outstanding == Decimal("120000.00") - paid_principal
    assert good.repayments.count() == len(book[0]["repayments"])
    assert good.instalments.filter(paid_on__isnull=False).count() == len(book[0]["repayments"])
    assert loans["JJ-CAUGHT-UP"].max_overdue_days == 10
    behind = loans["JJ-BEHIND"]
    assert behind.application.status == S.OVERDUE and behind.overdue_days > 30
    assert loans["JJ-DEFAULT"].defaulted_on == dt.date.fromisoformat(book[3]["defaulted_on"])
    settled = loans["JJ-SETTLED"]
    assert settled.outstanding == 0 and settled.application.closed_at is not None
    assert not settled.instalments.filter(paid_on__isnull=True).exists()
    # one "imported" timeline event per application, through the kernel, marked as via the API
    events_of = ApplicationEvent.objects.filter(application__imported=True)
    assert events_of.count() == 5
    assert set(events_of.values_list("kind", "from_status", "via_api")) == {
        (ApplicationEventKind.IMPORTED, "", True)
    }
    # outstanding loans are watched for early warnings; closed ones are not
    watched = set(LoanWatch.objects.values_list("reference", flat=True))
    assert watched == {loans[n].number for n in ("JJ-GOOD", "JJ-CAUGHT-UP", "JJ-BEHIND")}


def test_repayment_facts_carry_how_late_they_were_paid_and_the_balance_after(system, firms):
    book = _book(firms)
    body = _import(system, book).json()
    caught_up = Loan.objects.get(bank_loan_no="JJ-CAUGHT-UP")
    facts = Fact.objects.filter(batch_id=body["facts_batch"], reference_no=caught_up.number)
    repaid = sorted((f for f in facts if f.status == "repaid"), key=lambda f: f.occurred_on)
    assert len(repaid) == len(book[1]["repayments"]) > 0
    assert {f.quantity for f in repaid} == {Decimal(10)}  # each paid 10 days after its due date
    assert repaid[-1].arrears == caught_up.outstanding
    good = Loan.objects.get(bank_loan_no="JJ-GOOD")
    on_time = Fact.objects.filter(reference_no=good.number, status="repaid")
    assert set(on_time.values_list("quantity", flat=True)) == {Decimal(0)}
    defaulted = Loan.objects.get(bank_loan_no="JJ-DEFAULT")
    kinds = Fact.objects.filter(reference_no=defaulted.number).values_list("status", flat=True)
    assert sorted(kinds) == sorted(["disbursed", "repaid", "repaid", *["overdue"] * 3, "defaulted"])


def test_the_overdue_sweep_flags_none_of_the_imported_loans(system, firms):
    assert _import(system, _book(firms)).status_code == 200
    assert loans_overdue_sweep() == 0
    assert Loan.objects.filter(status=LoanStatus.OVERDUE).count() == 1  # JJ-BEHIND only


class _Clock:
    """django.utils.timezone as the import sees it, 40 days ago."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def localdate(self) -> dt.date:
        return self.day

    def __getattr__(self, name: str) -> Any:
        return getattr(timezone, name)


def test_the_sweep_counts_the_imported_loans_that_missed_an_instalment_since(
    system, firms, monkeypatch
):
    from xinrong.marketplace.services import loan_history

    past = TODAY - dt.timedelta(days=40)
    monkeypatch.setattr(loan_history, "timezone", _Clock(past))
    assert _import(system, _book(firms, today=past)).status_code == 200
    monkeypatch.undo()
    # since then the good and the caught-up loan each missed an instalment; the loan already
    # overdue only has its days advanced, the defaulted and the settled one are left alone
    assert loans_overdue_sweep() == 2
    status = dict(Loan.objects.values_list("bank_loan_no", "status"))
    assert status == {
        "JJ-GOOD": "overdue",
        "JJ-CAUGHT-UP": "overdue",
        "JJ-BEHIND": "overdue",
        "JJ-DEFAULT": "defaulted",
        "JJ-SETTLED": "settled",
    }


def test_a_sequence_of_forty_good_loans_leaves_the_sweep_nothing_to_flag(system, firms):
    book = [
        _loan(f"JJ-{k:03d}", firms[k % 3].uscc, days_ago=40 + 9 * k, months=6 + k % 30)
        for k in range(40)
    ]
    body = _import(system, book).json()
    assert body["created"] == 40
    assert loans_overdue_sweep() == 0


# ---------------------------------------------------------------- idempotency


def test_the_same_call_replays_and_the_same_loans_in_a_new_call_are_present(system, firms):
    book = _book(firms)
    first = _import(system, book, idem="history-0001")
    again = _import(system, book, idem="history-0001")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    batches = _platform_batches()
    # the same loans in another order, in a new call: present, not written again
    later = _import(system, list(reversed(book)), idem="history-0002")
    assert later.status_code == 200, later.content
    body = later.json()
    assert (body["created"], body["present"], body["facts_batch"]) == (0, 5, None)
    assert {r["result"] for r in body["loans"]} == {"present"}
    assert Loan.objects.count() == 5 and LoanApplication.objects.count() == 5
    assert _platform_batches() == batches


def test_a_new_call_mixing_present_and_new_loans_writes_only_the_new_ones(system, firms):
    book = _book(firms)
    _import(system, book[:2])
    body = _import(system, book).json()
    assert (body["created"], body["present"]) == (3, 2)
    assert [r["result"] for r in body["loans"]] == ["present", "present", *["created"] * 3]
    assert Loan.objects.count() == 5


def test_the_same_loan_number_with_other_content_is_a_conflict_and_nothing_is_written(
    system, firms
):
    book = _book(firms)
    _import(system, book[:1])
    changed = copy.deepcopy(book[0])
    changed["principal"] = "130000.00"
    response = _import(system, [changed, book[1]])
    assert _error(response) == (422, "invalid_loan_history")
    errors = response.json()["extra"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("loans[0].bank_loan_no", "conflict")]
    assert Loan.objects.count() == 1
    assert Loan.objects.get().principal == Decimal("120000.00")


def test_a_loan_disbursed_through_the_live_flow_is_not_overwritten(
    system, bank, enterprise_user, operator, firms
):
    from xinrong.marketplace.services import loans as loan_services
    from xinrong.marketplace.tests.factories import published_product

    product = published_product(bank["loan_officer"], operator, code="LIVE-1")
    entity = enterprise_user.organisation.market_entity
    app = _to(_apply(enterprise_user, entity, product), S.CONTRACT_SIGNED, bank)
    loan_services.application_disburse(
        application=app, actor=bank["loan_officer"], amount=Decimal("1000"), loan_no="JJ-LIVE"
    )
    response = _import(system, [_loan("JJ-LIVE", entity.uscc)])
    assert _error(response) == (422, "invalid_loan_history")
    assert "已在平台上办理放款" in response.json()["message"]


# ---------------------------------------------------------------- consistency rules


def _with(loan: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(loan)
    out.update(changes)
    return out


def _days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


RULES = [
    (
        "contract_before_application",
        {"contract_signed_on": _days(-300)},
        "contract_signed_on",
        "before_application",
    ),
    ("disbursed_before_contract", {"disbursed_on": _days(-250)}, "disbursed_on", "before_contract"),
    (
        "maturity_not_after_disbursement",
        {"maturity_on": _days(-200)},
        "maturity_on",
        "before_disbursement",
    ),
    (
        "future_disbursement",
        {"contract_signed_on": _days(-1), "disbursed_on": _days(2)},
        "disbursed_on",
        "future",
    ),
    ("future_application", {"applied_on": _days(1)}, "applied_on", "future"),
    ("bad_date", {"applied_on": "2024-02-30"}, "applied_on", "invalid_date"),
    ("negative_principal", {"principal": "-5"}, "principal", "out_of_range"),
    ("huge_principal", {"principal": "1e400"}, "principal", "out_of_range"),
    ("nan_rate", {"annual_rate": "NaN"}, "annual_rate", "invalid_amount"),
    ("three_decimals", {"principal": "1000.005"}, "principal", "too_many_decimals"),
    ("float_amount", {"principal": 1000.5}, "principal", "invalid_amount"),
    ("rate_above_ceiling", {"annual_rate": "36.01"}, "annual_rate", "out_of_range"),
    ("unknown_method", {"repayment_method": "balloon"}, "repayment_method", "invalid_choice"),
    ("bad_uscc", {"uscc": "91630100000000000X"}, "uscc", "invalid_uscc"),
    ("unregistered_uscc", {"uscc": valid_uscc(seed=9999)}, "uscc", "unknown_entity"),
    ("not_a_bool", {"first_loan": "yes"}, "first_loan", "invalid_bool"),
    (
        "defaulted_before_disbursement",
        {"defaulted_on": _days(-201)},
        "defaulted_on",
        "before_disbursement",
    ),
    ("settled_not_repaid", {"settled_on": _days(-1)}, "settled_on", "not_repaid"),
    ("unknown_product", {"product_code": "NO-SUCH"}, "product_code", "unknown_product"),
]


@pytest.mark.parametrize(("name", "changes", "path", "code"), RULES, ids=[r[0] for r in RULES])
def test_each_consistency_rule_refuses_the_call_naming_the_loan_and_field(
    system, firms, name, changes, path, code
):
    good = _loan("JJ-OK", firms[0].uscc)
    bad = _with(_loan("JJ-BAD", firms[1].uscc), **changes)
    response = _import(system, [good, bad])
    assert _error(response) == (422, "invalid_loan_history"), response.content
    errors = response.json()["extra"]["errors"]
    assert (f"loans[1].{path}", code) in [(e["field"], e["code"]) for e in errors], errors
    assert all(e["field"].startswith("loans[1].") for e in errors)
    assert f"loans[1].{path}" in response.json()["message"]
    assert not Loan.objects.exists() and not LoanApplication.objects.exists()


def _repayment_case(firms, mutate) -> Any:
    loan = _loan("JJ-R", firms[0].uscc)
    mutate(loan)
    return loan


REPAYMENT_RULES = [
    (
        "paid_before_disbursement",
        lambda x: x["repayments"][0].update(paid_on=_days(-260)),
        "repayments[0].paid_on",
        "out_of_range",
    ),
    (
        "paid_in_future",
        lambda x: x["repayments"][0].update(paid_on=_days(3)),
        "repayments[0].paid_on",
        "out_of_range",
    ),
    (
        "split_mismatch",
        lambda x: x["repayments"][1].update(interest="1.00"),
        "repayments[1].amount",
        "split_mismatch",
    ),
    (
        "over_repaid",
        lambda x: x["repayments"].append(
            {"paid_on": _days(-1), "amount": "200000.00", "principal": "200000.00", "interest": "0"}
        ),
        "repayments",
        "over_repaid",
    ),
    ("extra_key", lambda x: x["repayments"][0].update(fee="1"), "repayments[0]", "unknown_keys"),
    (
        "overdue_too_long",
        lambda x: x.update(overdue=[{"on": _days(-100), "days": 101}]),
        "overdue[0].days",
        "inconsistent",
    ),
    (
        "overdue_days_not_int",
        lambda x: x.update(overdue=[{"on": _days(-100), "days": "5"}]),
        "overdue[0].days",
        "invalid",
    ),
    (
        "repaid_but_not_settled",
        lambda x: (
            x["repayments"].append(
                {
                    "paid_on": _days(-1),
                    "amount": "200000.00",
                    "principal": str(
                        Decimal("120000") - sum(Decimal(r["principal"]) for r in x["repayments"])
                    ),
                    "interest": "0",
                }
            )
            or x["repayments"][-1].update(amount=x["repayments"][-1]["principal"])
        ),
        "settled_on",
        "missing",
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "path", "code"), REPAYMENT_RULES, ids=[r[0] for r in REPAYMENT_RULES]
)
def test_each_repayment_and_overdue_rule_is_checked(system, firms, name, mutate, path, code):
    response = _import(system, [_repayment_case(firms, mutate)])
    assert _error(response) == (422, "invalid_loan_history"), response.content
    fields = [(e["field"], e["code"]) for e in response.json()["extra"]["errors"]]
    assert (f"loans[0].{path}", code) in fields, fields
    assert not Loan.objects.exists()


def test_settled_on_must_not_precede_the_last_repayment(system, firms):
    settled = _loan("JJ-S", firms[0].uscc, days_ago=500)
    settled["settled_on"] = settled["repayments"][-2]["paid_on"]
    fields = [(e["field"], e["code"]) for e in _import(system, [settled]).json()["extra"]["errors"]]
    assert ("loans[0].settled_on", "before_last_repayment") in fields


def test_all_errors_of_all_loans_come_at_once(system, firms):
    bad = [
        _with(_loan("JJ-1", firms[0].uscc), principal="0"),
        _loan("JJ-OK", firms[1].uscc),
        _with(_loan("JJ-2", firms[1].uscc), annual_rate="50", disbursed_on=_days(5)),
        _loan("JJ-OK", firms[2].uscc),
        {"bank_loan_no": "JJ-3"},
    ]
    response = _import(system, bad)
    fields = [(e["field"], e["code"]) for e in response.json()["extra"]["errors"]]
    assert ("loans[0].principal", "out_of_range") in fields
    assert ("loans[2].annual_rate", "out_of_range") in fields
    assert ("loans[2].disbursed_on", "future") in fields
    assert ("loans[3].bank_loan_no", "duplicate") in fields
    assert ("loans[4]", "missing_keys") in fields
    assert not any(f.startswith("loans[1].") for f, _c in fields)


def test_more_than_the_limit_per_call_is_refused_with_the_limit_named(system, firms):
    response = _import(system, [_loan("JJ-X", firms[0].uscc)] * (MAX_LOANS + 1))
    assert _error(response) == (422, "too_many_loans")
    assert str(MAX_LOANS) in response.json()["message"]


def test_only_a_lenders_system_may_import(client, make_user, firms):
    guarantor = make_user("guarantor", ["institution_admin"])
    response = _import(_system(client, guarantor), [_loan("JJ-G", firms[0].uscc)])
    assert _error(response) == (403, "forbidden")


def test_another_institutions_loan_numbers_do_not_collide(client, system, make_user, firms):
    other = _system(client, make_user("bank", ["institution_admin"]))
    assert _import(system, [_loan("JJ-SAME", firms[0].uscc)]).json()["created"] == 1
    changed = _with(_loan("JJ-SAME", firms[1].uscc), annual_rate="7.00")
    answer = _import(other, [changed])
    assert answer.status_code == 200, answer.content
    assert answer.json()["created"] == 1
    assert Loan.objects.filter(bank_loan_no="JJ-SAME").count() == 2


# ---------------------------------------------------------------- after the import


def test_imported_loans_go_on_through_the_live_api_and_show_on_the_pages(
    client, system, firms, bank
):
    _import(system, _book(firms))
    good = Loan.objects.get(bank_loan_no="JJ-GOOD")
    response = system.post(f"/loans/{good.number}/repayments", {"amount": "100.00"})
    assert response.status_code == 201, response.content
    feed = system.get("/applications?limit=50")
    assert feed.status_code == 200 and len(feed.json()["results"]) == 5
    client.force_login(bank["loan_officer"])
    pages = (
        "/marketplace/applications/",
        f"/marketplace/applications/{good.application_id}/",
        "/marketplace/renewal/",
        "/marketplace/first-loan/",
    )
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
    detail = client.get(f"/marketplace/applications/{good.application_id}/").content.decode()
    assert "存量贷款（历史导入）" in detail and "导入历史贷款" in detail
    assert client.get("/").status_code == 200  # the workbench


def test_settling_an_imported_loan_through_the_api_needs_no_authorisation(system, firms):
    book = _book(firms)
    _import(system, book)
    good = Loan.objects.get(bank_loan_no="JJ-GOOD")
    owed = sum(
        (i.due_left for i in LoanInstalment.objects.filter(loan=good, paid_on__isnull=True)),
        Decimal("0"),
    )
    response = system.post(f"/loans/{good.number}/repayments", {"amount": str(owed)})
    assert response.status_code == 201, response.content
    good.refresh_from_db()
    assert good.status == LoanStatus.SETTLED
    assert Repayment.objects.filter(loan=good).count() == len(book[0]["repayments"]) + 1


def test_the_cli_imports_a_file_with_the_same_service(tmp_path, bank, firms):
    path = tmp_path / "book.json"
    path.write_text(json.dumps({"loans": _book(firms)}, ensure_ascii=False), encoding="utf-8")
    org = bank["institution_admin"].organisation
    call_command("loans", "import", "--institution", str(org.pk), str(path))
    assert Loan.objects.filter(application__imported=True).count() == 5
    call_command("loans", "import", "--institution", org.name, str(path))  # present, not again
    assert Loan.objects.count() == 5
    path.write_text(json.dumps({"loans": [_with(_book(firms)[0], annual_rate="7.00")]}), "utf-8")
    with pytest.raises(CommandError, match=r"loans\[0\]\.bank_loan_no"):
        call_command("loans", "import", "--institution", str(org.pk), str(path))


# ---------------------------------------------------------------- the live bank API's date order


@pytest.fixture
def signed_app(enterprise_user, operator, bank):
    from xinrong.marketplace.tests.factories import published_product

    product = published_product(bank["loan_officer"], operator, code="ORDER-1")
    app = _apply(enterprise_user, enterprise_user.organisation.market_entity, product)
    return _to(app, S.APPROVED, bank)


def test_the_bank_api_refuses_a_contract_signed_before_its_application(system, signed_app):
    before = (timezone.localtime(signed_app.submitted_at).date() - dt.timedelta(days=1)).isoformat()
    response = system.post(
        f"/applications/{signed_app.number}/contract",
        {"contract_no": "HT-EARLY", "signed_on": before},
    )
    assert response.status_code == 422, response.content
    assert "signed_on" in json.dumps(response.json(), ensure_ascii=False)
    signed_app.refresh_from_db()
    assert signed_app.status == S.APPROVED


def test_the_bank_api_refuses_a_disbursement_before_the_contract(system, signed_app):
    today = TODAY.isoformat()
    assert (
        system.post(
            f"/applications/{signed_app.number}/contract",
            {"contract_no": "HT-1", "signed_on": today},
        ).status_code
        == 200
    )
    response = system.post(
        f"/applications/{signed_app.number}/disburse",
        {"amount": "1000", "disbursed_on": _days(-1)},
    )
    assert response.status_code == 422, response.content
    assert "disbursed_on" in json.dumps(response.json(), ensure_ascii=False)
    assert not Loan.objects.exists()
