"""The authorisation sweep: every URL and API operation, by every role, on others' objects.

The URL conf and the OpenAPI document are enumerated when the test runs, so a page or endpoint
added tomorrow is tried tomorrow. The demo world is seeded once; the attackers are fresh logins
of every role in organisations that own nothing in it (a bank, an enterprise, a department, a
sub-station in another province) plus the platform's auditor (read-only). Each request fills the
route's parameters with objects of the demo world, which all belong to other enterprises, other
institutions and other regions. The test asserts:

- no 5xx anywhere, logged in or not; anonymous requests are redirected to the login or get 401/403;
- a write (POST, PUT, PATCH, DELETE) by an attacker changes nothing in the database; API writes
  carry valid bodies (``WRITE_BODIES``) so the permission check, not validation, is what refuses
  them; the few writes anyone of a kind may make (``ALLOWED_WRITES``) are only checked for 5xx;
- an attacker's read of another's object is refused (3xx to login, 403, 404, 405), except the
  public pages listed in ``PUBLIC_READS`` with the reason they are public;
- no attacker read writes a query-log row (no non-public data was read without consent);
- no page offers a demo login a form that then answers 403.

It writes the requests tried and refused per role to var/reports/authorisation-sweep-<db>.txt.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from xinrong.web.seed import DEMO_USERS

pytestmark = [pytest.mark.django_db]

WRITE_METHODS = ("post", "put", "patch", "delete")
REFUSED = {302, 401, 403, 404, 405}
# Pages that show public information to every logged-in role that reaches them (reason given).
PUBLIC_READS: dict[str, str] = {
    "marketplace:detail": "a published product is public to every logged-in user",
    "marketplace:apply": "the application form of a published product (writing it is refused)",
    "marketplace:compare": "comparison of published products",
    "enterprises:detail": "registry card: public registration data (region-scoped)",
    "credit:archive": "public credit information; non-public parts need consent (query log)",
    "credit:archive_export": "public credit information; non-public parts need consent",
    "credit:portrait": "public portrait; non-public parts need consent (query log)",
    "credit:graph": "public relationships; private parts need consent (query log)",
    "credit:graph_data": "public relationships; private parts need consent (query log)",
    "report_verify": "public verification of a report number (no login)",
    "credit:model": "auditors read the scoring models",
    "marketplace:demand": "an open demand is published to institutions in the demand hall",
    "datahub:template": "a blank Excel template of a data category",
    "credit:models": "auditors read the scoring models",
    "marketplace:reserve_detail": "investors browse every active reserve entry's public data",
    "policies:document": "a published policy document is public (no login needed)",
    "policies:measure": "a published support measure is public (no login needed)",
    "policies:fund_apply": "the application form of a published measure (writing it is refused)",
}
# Routes whose pages are open without login, by design.
ANONYMOUS_OPEN = {
    "accounts:login",
    "enterprises:register",
    "report_verify",
    "report_verify_lookup",
    "web:healthz",
    "set_language",
    "policies:calculator",  # the policy calculator: anyone answers a few questions (issue 14)
    "policies:list",
    "policies:document",
    "policies:measure",
}
# Writes any role of the kind may make on others' objects, by design (tried last, for 5xx only).
ALLOWED_WRITES: dict[str, tuple[str, set[str]]] = {
    "credit:recommend_consent": (
        "an enterprise answers 同意推荐给金融机构 for its own entity (the only one it reaches)",
        {"enterprise"},
    ),
    "marketplace:demand_take": (
        "a lender takes an open demand from the demand hall (抢单)",
        {"bank"},
    ),
    "/api/v1/marketplace/demands/{demand_id}/take": ("the same through the API", {"bank"}),
    "marketplace:reserve_interest": (
        "an investor expresses interest in an active reserve entry (the enterprise decides)",
        {"investor"},
    ),
    "/api/v1/marketplace/demands": (
        "an enterprise publishes a demand of its own; anyone else must be refused",
        {"enterprise"},
    ),
}


def _allowed(key: str, kind: str) -> bool:
    """Return True if ``key`` (a route name or API path) is an allowed write for this kind."""
    return key in ALLOWED_WRITES and kind in ALLOWED_WRITES[key][1]


# Bodies of the API's writes: valid enough to pass validation, so the permission check is what
# refuses them. A write operation with a body and no entry here fails the coverage test. A list
# means several bodies are tried (a batch for a department's source and for the platform's own,
# which the operator's organisation owns, so an auditor's delivery would reach it).
WRITE_BODIES: dict[str, Any] = {
    "/api/v1/policies/calculator": lambda w: {
        "entity_type": "enterprise",
        "industry": "F51",
        "region": "630102",
        "size_class": "small",
    },
    "/api/v1/datahub/batches": lambda w: [
        {
            "source": code,
            "category": category,
            "rows": [
                {
                    "uscc": w.usccs[0],
                    "period": "2024-06",
                    "tax_paid": "1",
                    "tax_grade": "D",
                    "arrears": "99999",
                }
            ],
        }
        for code, category in w.sources
    ],
    "/api/v1/datahub/conflicts/{conflict_id}/resolve": lambda w: {
        "outcome": "dismissed",
        "note": "扫描测试",
    },
    "/api/v1/credit/disputes": lambda w: {
        "fact_id": w.fact_id,
        "kind": "objection",
        "claim": "扫描测试",
    },
    "/api/v1/marketplace/demands": lambda w: {
        "amount": "100000",
        "term_months": 12,
        "purpose_category": "working_capital",
        "max_rate": "6.5",
    },
    "/api/v1/marketplace/demands/{demand_id}/release": lambda w: {"note": "扫描测试"},
}
# The bank API takes signed requests only (docs/bank-api.md): a session or a body cannot pass.
SIGNED_ONLY = re.compile(r"^/api/v1/bank/")
# Routes that end the sweep's own session.
SESSION_ENDING = {"accounts:logout"}
# API operations open to every logged-in caller (public reference data, own identity).
PUBLIC_API = re.compile(
    r"^/api/v1/(reference/|accounts/me$|marketplace/products(/\{[a-z_]+\})?$|docs|openapi"
    # the registry card and the public part of the archive (non-public parts need consent and
    # are logged: the sweep checks that no query-log row appears)
    r"|enterprises/\{uscc\}$|credit/(archive|graph)/\{uscc\}$"
    # the policy calculator: answers in, published measures out, no login (issue 14)
    r"|policies/calculator$"
    # published policy documents and measures are public
    r"|policies/(documents|measures)(/\{[a-z_]+\})?$)"
)
# Tables a request may legitimately touch without changing the platform's data.
VOLATILE_TABLES = {
    "accounts.apinonce",
    "accounts.securityevent",
    "accounts.loginattempt",
    # each use of the policy calculator is counted (answers, no identity), as a page view
    "policies.calculatorquery",
    # the audit trail records the refused attempts too (security events, downloads: docs/audit.md)
    "audit.auditentry",
    "audit.auditchainhead",
}


@dataclass(frozen=True)
class Attacker:
    """One login of the sweep: its organisation kind, roles and region."""

    label: str
    org: str
    kind: str
    roles: tuple[str, ...]
    region: str = ""
    read_only: bool = False


# Fresh logins of every role in organisations that own nothing in the demo world; the
# sub-station's region is in another province; the auditor is the demo's (it reads by design).
ATTACKERS: dict[str, Attacker] = {
    "x_bank_admin": Attacker("机构管理员", "外来银行", "bank", ("institution_admin",)),
    "x_officer": Attacker("客户经理", "外来银行", "bank", ("loan_officer",)),
    "x_reviewer": Attacker("审批人员", "外来银行", "bank", ("reviewer",)),
    "x_investor": Attacker("投资机构", "外来投资机构", "investor", ("institution_admin",)),
    "x_data": Attacker("数据报送员", "外来部门", "government", ("data_provider",)),
    "x_policy": Attacker("政策发布员", "外来部门", "government", ("policy_publisher",)),
    "x_fund": Attacker("资金审批人", "外来部门", "government", ("fund_approver",)),
    "x_station": Attacker(
        "子站运营（外省）", "外省子站", "substation", ("operator_admin",), "110101"
    ),
    "x_station_audit": Attacker(
        "子站审计员（外省）", "外省子站", "substation", ("auditor",), "110101"
    ),
    "x_owner": Attacker("企业主", "", "enterprise", ("enterprise_owner",)),
    "x_agent": Attacker("企业经办人", "", "enterprise", ("enterprise_agent",)),
    "auditor": Attacker("审计员（全省）", "", "operator", ("auditor",), read_only=True),
}


def build_attackers() -> None:
    """Create the attackers' organisations and logins (the demo's auditor exists already)."""
    from xinrong.accounts.services.organisations import organisation_create
    from xinrong.accounts.services.users import user_create
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    owner = enterprise_register(
        uscc=valid_uscc(seed=987654),
        name="外来测试商贸有限公司",
        legal_rep_name="赵外",
        legal_rep_id_number=valid_id_number(seed=987654),
        username="x_owner",
        password="Sweep-pass-2026",
        industry_code="F51",
        division_code="630102",
    )
    orgs: dict[str, Any] = {"": owner.organisation}
    for username, a in ATTACKERS.items():
        if username in ("x_owner", "auditor"):
            continue
        if a.org not in orgs:
            orgs[a.org] = organisation_create(name=a.org, kind=a.kind, region_code=a.region)
        user_create(
            username=username,
            password="Sweep-pass-2026",
            organisation=orgs[a.org],
            roles=list(a.roles),
            display_name=a.label,
        )


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            inner_ns = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            out += _walk(p.url_patterns, prefix + str(p.pattern), inner_ns)
        elif isinstance(p, URLPattern):
            name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
            out.append((prefix + str(p.pattern), name.lstrip(":"), p))
    return out


def web_routes() -> list[tuple[str, str]]:
    """Return (route, name) of every page, leaving out the admin site and the JSON API."""
    return [
        (route, name)
        for route, name, _p in _walk(get_resolver().url_patterns)
        if not route.startswith(("admin/", "api/v1/", "static/"))
    ]


def api_operations() -> list[tuple[str, str]]:
    """Return (method, path template) of every operation in the OpenAPI document."""
    from xinrong.config.api import api

    schema = api.get_openapi_schema()
    return [
        (method, path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _action_slugs() -> list[str]:
    from xinrong.marketplace.views import applications as application_views
    from xinrong.marketplace.views import products as product_views
    from xinrong.marketplace.workflows import APPLICATION

    slugs = (
        {a.name for a in APPLICATION.actions}
        | set(product_views.ACTIONS)
        | set(application_views.ACTION_FORMS)
    )
    slugs |= {"correct", "uphold", "evidence", "withdraw", "extend", "approve", "reject", "accept"}
    slugs |= {"decline", "handle", "close", "acknowledge"}
    return sorted(slugs)


class World:
    """Values of the demo world to put into routes: all of them belong to others."""

    def __init__(self) -> None:
        from xinrong.credit.models import CreditReport
        from xinrong.enterprises.models import MarketEntity
        from xinrong.marketplace.models import LoanApplication, Product

        self.usccs = list(
            MarketEntity.objects.exclude(organisation=None).values_list("uscc", flat=True)[:2]
        ) + list(MarketEntity.objects.filter(organisation=None).values_list("uscc", flat=True)[:1])
        from xinrong.riskfund.models import Fund

        # products' codes and the risk funds' (both routes name the parameter ``code``)
        self.codes = list(Product.objects.values_list("code", flat=True)[:2])
        self.codes += list(Fund.objects.order_by("pk").values_list("code", flat=True)[:2])
        numbers = list(CreditReport.objects.values_list("number", flat=True)[:1])
        numbers += list(LoanApplication.objects.values_list("number", flat=True)[:1])
        self.numbers = numbers or ["XR0000000000"]
        from xinrong.marketplace.models import Loan

        self.loan_numbers = list(Loan.objects.values_list("number", flat=True)[:1]) or ["L0"]
        self.slugs = _action_slugs()
        from xinrong.datahub.models import Fact, Source

        department = Source.objects.exclude(code="platform").order_by("pk").first()
        platform = Source.objects.filter(code="platform").first()
        self.sources = [(s.code, s.categories[0]) for s in (department, platform) if s is not None]
        self.fact_id = Fact.objects.values_list("pk", flat=True).first() or 1

    def values(self, name: str, converter: str) -> list[str]:
        """Return the values to try for a route parameter."""
        if (
            converter == "int"
            or name in {"pk", "version", "fact_id", "file_id", "guarantee_pk"}
            or name.endswith("_id")
        ):
            return ["1", "3"]
        if name == "uscc":
            return self.usccs
        if name == "code":
            return self.codes
        if name == "number":
            return self.numbers
        if name == "loan_no":
            return self.loan_numbers
        if name == "action":
            return self.slugs
        if name == "category":
            return ["tax"]
        if name == "stage":  # 融资评价: the stage of a loan rated (issue 16)
            return ["disbursed", "settled"]
        return ["x"]


_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\{(?P<api>\w+)\}")


def expand(template: str, world: World, *, limit: int = 40) -> list[str]:
    """Fill a route's parameters with every combination of the world's values (bounded)."""
    urls = [template]
    for m in _PARAM.finditer(template):
        name = m.group("name") or m.group("api")
        values = world.values(name, m.group("conv") or "")
        urls = [u.replace(m.group(0), v, 1) for u in urls for v in values]
    step = max(1, len(urls) // limit)  # an even sample across every parameter's values
    return urls[::step][:limit]


def fingerprint() -> dict[str, tuple[int, Any]]:
    """Return row counts and the latest change of every platform table."""
    out = {}
    for model in apps.get_models():
        if not model.__module__.startswith("xinrong.") or ".tests." in model.__module__:
            continue  # throwaway models of a test (the kernel's) have no table here
        label = model._meta.label_lower
        if label in VOLATILE_TABLES:
            continue
        qs = model._default_manager.all()
        latest = None
        if any(f.name == "updated_at" for f in model._meta.fields):
            latest = qs.aggregate(m=Max("updated_at"))["m"]
        out[label] = (qs.count(), latest)
    return out


def _changed(before: dict, after: dict) -> list[str]:
    return [k for k in before if before[k] != after.get(k)]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from django.core.management import call_command

    from xinrong.web.tests.seeded import demo_world

    with django_db_blocker.unblock():
        demo_world(seed_value=11)
        attackers = build_attackers()
        _report(
            [
                f"authorisation sweep on {connection.vendor}: requests tried and refused per role",
                f"{len(web_routes())} pages, {len(api_operations())} API operations",
            ]
        )
        yield World(), attackers
        call_command("flush", "--noinput")


def _report(lines: list[str]) -> None:
    folder = Path(settings.VAR_DIR) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    (folder / f"authorisation-sweep-{vendor}.txt").write_text("\n".join(lines) + "\n", "utf-8")


def _bodies(path: str, w: World) -> list[Any]:
    """Return the request bodies to try on an API path (one empty body when none is declared)."""
    if path not in WRITE_BODIES:
        return [None]
    made = WRITE_BODIES[path](w)
    return made if isinstance(made, list) else [made]


def _api_call(client: Client, method: str, url: str, body: Any = None) -> Any:
    if method == "get":
        return client.get(url)
    data = json.dumps(body if body is not None else {}, ensure_ascii=False)
    return getattr(client, method)(url, data=data, content_type="application/json")


def _anonymous_ok(status: int, location: str) -> bool:
    return status in (401, 403, 404, 405) or (status == 302 and "/accounts/login/" in location)


def test_anonymous_requests_never_see_a_page_or_a_500(world):
    w, _attackers = world
    client = Client(raise_request_exception=False)
    tried = refused = 0
    for route, name in web_routes():
        for url in expand("/" + route, w, limit=4):
            for method in ("get", "post"):
                r = getattr(client, method)(url)
                tried += 1
                assert r.status_code < 500, (method, url, r.status_code)
                if name in ANONYMOUS_OPEN:
                    continue
                assert _anonymous_ok(r.status_code, r.get("Location", "")), (
                    method,
                    url,
                    r.status_code,
                )
                refused += 1
    for method, path in api_operations():
        for url in expand(path, w, limit=4):
            r = _api_call(client, method, url)
            tried += 1
            assert r.status_code < 500, (method, url, r.status_code)
            if PUBLIC_API.match(path):
                continue
            assert r.status_code in (401, 403, 404, 405), (method, url, r.status_code)
            refused += 1
    assert tried > 300 and refused > 250


def _sweep_role(client: Client, w: World, attacker: Attacker) -> tuple[Counter, list[str]]:
    from xinrong.credit.models import QueryLog

    counts: Counter = Counter()
    leaks: list[str] = []
    logs_before = QueryLog.objects.count()
    before = fingerprint()
    for route, name in web_routes():
        if name in SESSION_ENDING or _allowed(name, attacker.kind):
            continue
        has_params = "<" in route
        for url in expand("/" + route, w, limit=16 if has_params else 1):
            for method in ("get", "post"):
                if method == "get" and not has_params:
                    continue  # list pages of one's own: checked by their own tests
                if method == "get" and attacker.read_only:
                    continue  # the auditor reads the province by design
                r = getattr(client, method)(url, {"note": "x", "reason": "x"})
                counts["tried"] += 1
                if r.status_code == 302 and "/accounts/login/" in r.get("Location", ""):
                    leaks.append(f"{method.upper()} {url}: the login was lost, the sweep is void")
                    return counts, leaks
                if r.status_code >= 500:
                    leaks.append(f"{method.upper()} {url} -> {r.status_code}")
                    continue
                if method == "get":
                    if r.status_code in REFUSED or name in PUBLIC_READS:
                        counts["refused" if r.status_code in REFUSED else "public"] += 1
                    else:
                        leaks.append(f"GET {url} ({name}) -> {r.status_code}")
                else:
                    counts["writes"] += 1
    for method, path in api_operations():
        if _allowed(path, attacker.kind):
            continue
        for body in _bodies(path, w):
            for url in expand(path, w, limit=12):
                if method == "get" and ("{" not in path or attacker.read_only):
                    continue
                r = _api_call(client, method, url, body)
                counts["tried"] += 1
                if r.status_code >= 500:
                    leaks.append(f"{method.upper()} {url} -> {r.status_code}")
                elif method == "get":
                    if r.status_code in (401, 403, 404, 405) or PUBLIC_API.match(path):
                        counts["refused" if r.status_code >= 400 else "public"] += 1
                    else:
                        leaks.append(f"GET {url} -> {r.status_code}")
                else:
                    counts["writes"] += 1
    changed = _changed(before, fingerprint())
    if changed:
        leaks.append(f"writes changed: {', '.join(changed)}")
    if QueryLog.objects.count() != logs_before:
        leaks.append("a read wrote a query-log row (non-public data read without consent)")
    allowed = [("/" + route) for route, name in web_routes() if _allowed(name, attacker.kind)]
    allowed += [path for _m, path in api_operations() if _allowed(path, attacker.kind)]
    for template in allowed:
        body = _bodies(template, w)[0]
        for url in expand(template, w, limit=2):
            r = (
                _api_call(client, "post", url, body)
                if template.startswith("/api/")
                else (client.post(url))
            )
            counts["tried"] += 1
            if r.status_code >= 500:
                leaks.append(f"POST {url} -> {r.status_code}")
    return counts, leaks


@pytest.mark.parametrize("username", list(ATTACKERS))
def test_no_role_reads_or_changes_another_partys_objects(world, username):
    from xinrong.accounts.models import User

    w, _attackers = world
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=username))
    counts, leaks = _sweep_role(client, w, ATTACKERS[username])
    line = (
        f"{username:<18} {ATTACKERS[username].label:<22} tried {counts['tried']:>5}  "
        f"refused reads {counts['refused']:>4}  public reads {counts['public']:>3}  "
        f"writes {counts['writes']:>4} (changed nothing: {'yes' if not leaks else 'NO'})"
    )
    path = Path(settings.VAR_DIR) / "reports" / f"authorisation-sweep-{connection.vendor}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    assert not leaks, "\n".join(leaks[:40])
    assert counts["tried"] > 100


def test_the_sweep_covers_every_route_and_operation():
    """A route or operation with a parameter the sweep cannot fill would be tried with nothing."""
    names = defaultdict(int)
    for route, _name in web_routes():
        for m in _PARAM.finditer(route):
            names[m.group("name")] += 1
    for _method, path in api_operations():
        for m in _PARAM.finditer(path):
            names[m.group("api")] += 1
    known = {"pk", "version", "fact_id", "file_id", "uscc", "code", "number", "action", "category"}
    known |= {"loan_no", "guarantee_pk", "stage"}
    unknown = {n for n in names if n not in known and not n.endswith("_id")}
    assert not unknown, f"teach World.values these parameters: {sorted(unknown)}"
    assert len(web_routes()) > 80 and len(api_operations()) > 25
    from xinrong.config.api import api

    schema = api.get_openapi_schema()
    needing = {
        path
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in WRITE_METHODS and op.get("requestBody") and not SIGNED_ONLY.match(path)
    }
    missing = needing - set(WRITE_BODIES)
    assert not missing, f"give the sweep a valid body for: {sorted(missing)}"


_FORM = re.compile(r"<form\b[^>]*>", re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_DETAIL_LINK = re.compile(r'href="(/(?:credit|datahub|marketplace|accounts)/[\w/-]*/\d+/)"')


def _post_forms(html: str, page_url: str) -> list[str]:
    """Return the action URLs of the page's POST forms (the page itself when no action)."""
    out = []
    for tag in _FORM.findall(html):
        attrs = {k.lower(): v for k, v in _ATTR.findall(tag)}
        if attrs.get("method", "get").lower() != "post":
            continue
        action = attrs.get("action") or page_url
        if action.startswith("/") and not action.startswith(("/accounts/logout", "/i18n/")):
            out.append(action.replace("&amp;", "&"))
    return out


@pytest.mark.parametrize("username", [d.username for d in DEMO_USERS])
def test_no_page_offers_a_form_its_user_is_then_refused(world, username):
    """Every POST form a demo login is shown (menu pages and the objects they link) is allowed."""
    from xinrong.accounts.models import User

    user = User.objects.get(username=username)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    home = client.get("/")
    pages = ["/"] + [url for _l, url, _i in home.context["nav_items"]]
    seen: set[str] = set()
    refused: list[str] = []
    for url in pages:
        r = client.get(url)
        if r.status_code != 200 or "html" not in r.get("Content-Type", ""):
            continue
        html = r.content.decode()
        details = list(dict.fromkeys(_DETAIL_LINK.findall(html)))[:3]
        for page_url, page_html in [(url, html)] + [
            (d, client.get(d).content.decode()) for d in details if d not in seen
        ]:
            seen.add(page_url)
            for action in _post_forms(page_html, page_url):
                if action in seen:
                    continue
                seen.add(action)
                status = client.post(action, {}).status_code
                if status == 403:
                    refused.append(f"{page_url} offers a form to {action}: 403")
    assert not refused, "\n".join(refused)
