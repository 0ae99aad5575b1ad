"""The relationship graph: circles, hops, masking, shared addresses and phones, access, API."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.credit.graph.base import ENTITY, MAX_CIRCLE_LENGTH
from xinrong.credit.graph.circles import _canonical, find_circles, guarantee_circles
from xinrong.credit.graph.ego import ego_graph, yuan_label
from xinrong.credit.graph.flags import risk_flags
from xinrong.credit.models import QueryLog
from xinrong.credit.presenters import graph_out
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.services import archive as archive_services
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises import services as registry
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.names import address_key
from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_id_number, valid_uscc

# --- circles in constructed graphs (no database) ----------------------------------------------


def test_triangle_is_one_circle_in_guarantee_order():
    found = find_circles([(1, 2), (2, 3), (3, 1)])
    assert found.circles == [[1, 2, 3]]
    assert found.in_circle == {1, 2, 3} and not found.truncated


def test_circle_keeps_the_direction_of_guarantees():
    # 3 guarantees 2, 2 guarantees 1, 1 guarantees 3
    assert find_circles([(3, 2), (2, 1), (1, 3)]).circles == [[1, 3, 2]]


def test_mutual_guarantee_is_a_two_member_circle():
    assert find_circles([(5, 4), (4, 5)]).circles == [[4, 5]]


def test_a_chain_without_cycle_has_no_circle():
    found = find_circles([(1, 2), (2, 3), (3, 4), (1, 4)])
    assert found.circles == [] and found.in_circle == frozenset()


def test_two_disjoint_circles_are_both_found_shortest_first():
    edges = [(10, 11), (11, 12), (12, 10), (20, 21), (21, 20), (12, 20)]
    assert find_circles(edges).circles == [[20, 21], [10, 11, 12]]


def test_circles_can_be_limited_to_those_through_given_entities():
    edges = [(1, 2), (2, 1), (7, 8), (8, 9), (9, 7)]
    found = find_circles(edges, through={8})
    assert found.circles == [[7, 8, 9]]
    assert found.in_circle == {7, 8, 9}


def test_circles_longer_than_the_bound_are_not_listed_but_flag_their_members():
    ring = [(i, i + 1) for i in range(1, 8)] + [(8, 1)]
    found = find_circles(ring, max_length=6)
    assert found.circles == []
    assert found.in_circle == set(range(1, 9))
    assert find_circles(ring, max_length=8).circles == [list(range(1, 9))]


def test_many_circles_are_cut_at_the_limit_and_say_so():
    complete = [(a, b) for a in range(1, 6) for b in range(1, 6) if a != b]
    found = find_circles(complete, limit=3)
    assert len(found.circles) == 3 and found.truncated


def test_amounts_read_as_chinese_finance_pages_show_them():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert yuan_label(Decimal("5000000.00")) == "5,000,000 元"
        assert yuan_label(Decimal("12345.67")) == "12,345.67 元"  # to the cent, as every page
        assert yuan_label(Decimal("8000")) == "8,000 元"
    with translation.override("en"):
        assert yuan_label(Decimal("12345.67")) == "CNY 12,345.67"


# --- the registry's guarantee circles ---------------------------------------------------------


def _guarantee(guarantor, debtor, amount=None):
    return registry.relationship_add(
        entity=debtor,
        kind="guarantor",
        holder_entity=guarantor,
        guaranteed_amount=None if amount is None else Decimal(amount),
    )


@pytest.mark.django_db
def test_registry_circles_triangle_two_cycle_and_chain():
    a, b, c, d, e, f, h, k = MarketEntityFactory.create_batch(8)
    _guarantee(a, b), _guarantee(b, c), _guarantee(c, a)
    _guarantee(d, e), _guarantee(e, d)
    _guarantee(f, h), _guarantee(h, k)  # a chain
    person = registry.person_get_or_create(name="马明", id_number=valid_id_number(seed=61))
    registry.relationship_add(entity=a, kind="guarantor", person=person)
    assert guarantee_circles() == [[d.pk, e.pk], [a.pk, b.pk, c.pk]]
    assert guarantee_circles([b.pk]) == [[a.pk, b.pk, c.pk]]
    assert guarantee_circles([f.pk, h.pk, k.pk]) == []


@pytest.mark.django_db
def test_circle_search_walks_the_guarantee_graph_in_a_bounded_number_of_queries():
    ring = MarketEntityFactory.create_batch(5)
    for x, y in zip(ring, ring[1:] + ring[:1], strict=True):
        _guarantee(x, y)
    with CaptureQueriesContext(connection) as ctx:
        circles = guarantee_circles([ring[2].pk])
    assert circles == [[r.pk for r in ring]]
    assert len(ctx.captured_queries) <= MAX_CIRCLE_LENGTH


# --- the ego graph ----------------------------------------------------------------------------


def _person(name, seed, phone=""):
    return registry.person_get_or_create(
        name=name, id_number=valid_id_number(seed=seed), phone=phone
    )


def _entity(rep, **kw):
    return MarketEntityFactory(legal_representative=rep, **kw)


def _keys(graph):
    return {(kind, pk) for kind, pk in graph.nodes}


def _build(entity, hops=3, **kw):
    args = dict(guarantees=True, shared_phones=True, fact_categories=["penalty", "judicial"])
    args.update(kw)
    return ego_graph(entity, hops=hops, **args)


@pytest.fixture
def chain(db):
    """C —(rep P)— D —(shareholder E)— E —(executive Q)— Q; D and K guarantee each other."""
    p = _person("王小明", 71)
    c = _entity(p, name="中心公司")
    d = _entity(p, name="丁公司")
    e = _entity(_person("赵一", 72), name="戊公司")
    registry.relationship_add(entity=d, kind="shareholder", holder_entity=e, share_ratio=35)
    q = _person("欧阳娜娜", 73)
    registry.relationship_add(entity=e, kind="executive", person=q, title="监事")
    k = _entity(_person("钱二", 74), name="癸公司")
    _guarantee(d, k, "3000000")
    _guarantee(k, d, "1000000")
    return {"p": p, "c": c, "d": d, "e": e, "q": q, "k": k}


def test_hops_limit_how_far_the_graph_reaches(chain):
    c, d, e, p, q = chain["c"], chain["d"], chain["e"], chain["p"], chain["q"]
    one = _build(c, hops=1)
    assert _keys(one) == {("e", c.pk), ("p", p.pk)}
    two = _build(c, hops=2)
    assert ("e", d.pk) in two.nodes and ("e", e.pk) not in two.nodes
    three = _build(c, hops=3)
    assert ("e", e.pk) in three.nodes and ("p", q.pk) not in three.nodes
    assert {n.hop for n in three.nodes.values()} == {0, 1, 2, 3}
    with pytest.raises(ValueError):
        _build(c, hops=4)


def test_edges_carry_kind_label_direction_and_guarantee_amount(chain):
    c, d, e, k, p = chain["c"], chain["d"], chain["e"], chain["k"], chain["p"]
    graph = _build(c, hops=3)
    edges = {(x.source, x.target, x.kind): x for x in graph.edges}
    rep = edges[(("p", p.pk), ("e", c.pk), "legal_representative")]
    assert rep.label == "法定代表人" and rep.directed
    share = edges[(("e", e.pk), ("e", d.pk), "shareholder")]
    assert share.label == "持股 35%"
    out = edges[(("e", d.pk), ("e", k.pk), "guarantee")]
    assert (out.amount, out.label) == (Decimal("3000000.00"), "担保 3,000,000 元")
    assert (("e", k.pk), ("e", d.pk), "guarantee") in edges


def test_a_circle_beyond_the_hop_limit_is_not_reported(chain):
    c, d, k = chain["c"], chain["d"], chain["k"]
    assert _build(c, hops=1).circles == []
    two = _build(c, hops=2)  # D is in the graph, K one hop further out
    (circle,) = two.circles
    assert [m.entity_id for m in circle.members] == sorted([d.pk, k.pk])
    assert circle.amount == Decimal("4000000.00")
    payload = graph_out(two)
    members = {m["uscc"]: m["in_graph"] for m in payload["circles"][0]["members"]}
    assert members == {d.uscc: True, k.uscc: False}
    flags = {f.code for f in two.nodes[("e", d.pk)].flags}
    assert "guarantee_circle" in flags


def test_circle_edges_between_outer_nodes_are_drawn(db):
    a, b, c = MarketEntityFactory.create_batch(3)
    _guarantee(a, b), _guarantee(b, c), _guarantee(c, a)
    graph = _build(a, hops=1)  # b and c are both one hop out; b → c joins them
    kinds = {(x.source, x.target) for x in graph.edges if x.kind == "guarantee"}
    assert (("e", b.pk), ("e", c.pk)) in kinds
    assert [[m.entity_id for m in x.members] for x in graph.circles] == [
        _canonical([a.pk, b.pk, c.pk])
    ]


def test_without_guarantees_the_walk_does_not_follow_them(chain):
    graph = _build(chain["d"], hops=1, guarantees=False)
    assert ("e", chain["k"].pk) not in graph.nodes
    assert not any(x.kind == "guarantee" for x in graph.edges)
    assert graph.circles == []


def test_person_names_are_masked(chain):
    graph = _build(chain["c"], hops=3)
    labels = {n.label for n in graph.nodes.values() if n.kind == "person"}
    assert "王**" in labels
    payload = str(graph_out(graph))
    assert "王小明" not in payload and "欧阳娜娜" not in payload
    assert valid_id_number(seed=71) not in payload


def test_entities_at_the_same_address_are_linked_ignoring_whitespace(db):
    c = registry.market_entity_create(
        uscc=valid_uscc(seed=131),
        name="西宁甲商贸有限公司",
        industry_code="F51",
        division_code="630102",
        address="西宁市城东区八一路1号",
    )
    twin_address = "西宁市城东区 八一路１号"
    twin = MarketEntityFactory(address=twin_address, address_key=address_key(twin_address))
    other_address = "西宁市城东区八一路2号"
    MarketEntityFactory(address=other_address, address_key=address_key(other_address))
    graph = _build(c, hops=1, guarantees=False, shared_phones=False)
    (edge,) = [x for x in graph.edges if x.kind == "shared_address"]
    assert {edge.source, edge.target} == {("e", c.pk), ("e", twin.pk)}
    assert edge.label == "同一住所" and not edge.directed


def test_people_sharing_a_phone_are_linked_only_when_phones_may_show(db):
    p1 = _person("李甲", 81, phone="13812345678")
    p2 = _person("李乙", 82, phone="+86 138 1234 5678")
    c, other = _entity(p1), _entity(p2)
    graph = _build(c, hops=3)
    (edge,) = [x for x in graph.edges if x.kind == "shared_phone"]
    assert {edge.source, edge.target} == {("p", p1.pk), ("p", p2.pk)}
    assert ("e", other.pk) in graph.nodes
    assert "13812345678" not in str(graph_out(graph))
    public = _build(c, hops=3, shared_phones=False)
    assert ("p", p2.pk) not in public.nodes
    assert not any(x.kind == "shared_phone" for x in public.edges)


def test_node_limit_truncates_and_says_so(db):
    boss = _person("孙总", 91)
    c = _entity(boss)
    for _ in range(8):
        _entity(boss)
    graph = _build(c, hops=2, max_nodes=5)
    assert len(graph.nodes) == 5 and graph.truncated
    assert all(x.source in graph.nodes and x.target in graph.nodes for x in graph.edges)
    assert not _build(c, hops=2).truncated


def test_query_count_does_not_grow_with_the_number_of_nodes(db):
    def star(n, seed):
        boss = _person("周总", seed)
        center = _entity(boss)
        for _ in range(n):
            sub = _entity(boss)
            registry.relationship_add(
                entity=sub, kind="shareholder", holder_entity=center, share_ratio=51
            )
            _guarantee(center, sub, "100000")
        return center

    small, big = star(2, 101), star(20, 102)
    counts = []
    for center in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            graph = _build(center, hops=3)
        counts.append(len(ctx.captured_queries))
    assert len(graph.nodes) > 20
    assert counts[1] <= counts[0] + 1  # the circle walk may take one more step
    assert counts[1] <= 25


# --- related-party risk flags -----------------------------------------------------------------


@pytest.fixture
def court(make_user):
    dept = make_user("government", ["data_provider"])
    return source_create(
        code="court",
        name="法院",
        organisation=dept.organisation,
        categories=["judicial", "penalty"],
    )


def _deliver(source, category, text):
    batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}-{abs(hash(text))}.csv",
        channel="cli",
    )


@pytest.fixture
def risky(chain, court):
    """D is a dishonest judgement debtor; E has a penalty and an old one past retention."""
    d, e = chain["d"], chain["e"]
    _deliver(
        court,
        "judicial",
        "统一社会信用代码,案号,诉讼地位,立案日期,失信被执行人\n"
        f"{d.uscc},(2024)青0102执1号,executed,2024-03-01,是\n",
    )
    _deliver(
        court,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期\n"
        f"{e.uscc},青罚〔2024〕7号,general,2024-05-01\n"
        f"{chain['k'].uscc},青罚〔2012〕9号,general,2012-05-01\n",
    )
    MarketEntity.objects.filter(pk=chain["k"].pk).update(registration_status="revoked")
    return chain


def test_risk_flags_come_from_facts_status_and_circles_in_few_queries(risky):
    d, e, k = risky["d"], risky["e"], risky["k"]
    with CaptureQueriesContext(connection) as ctx:
        flags = risk_flags(
            {d.pk: "active", e.pk: "active", k.pk: "revoked"},
            categories=["judicial", "penalty"],
            in_circle={d.pk, k.pk},
        )
    assert len(ctx.captured_queries) == 1
    assert [f.code for f in flags[d.pk]] == ["dishonest", "negative_info", "guarantee_circle"]
    assert "司法诉讼 1 条" in flags[d.pk][1].detail
    assert [f.code for f in flags[e.pk]] == ["negative_info"]
    assert "行政处罚 1 条" in flags[e.pk][0].detail
    # K's 2012 penalty is past its retention date: only the revocation and the circle show
    assert [f.code for f in flags[k.pk]] == ["revoked", "guarantee_circle"]


def test_a_repaired_penalty_no_longer_flags_its_entity(risky, court, make_user):
    from xinrong.credit.choices import RepairStatus
    from xinrong.credit.models import RepairApplication
    from xinrong.datahub.models import Fact

    e = risky["e"]
    fact = Fact.objects.get(entity=e, category="penalty")
    RepairApplication.objects.create(
        entity=e,
        fact=fact,
        source=court,
        severity="general",
        decided_on=fact.occurred_on,
        statement="已整改",
        status=RepairStatus.APPROVED,
        filed_by=make_user("enterprise", ["enterprise_owner"]),
        submitted_at=timezone.now(),
        decided_by=court.organisation.users.first(),
        decided_at=timezone.now(),
    )
    flags = risk_flags({e.pk: "active"}, categories=["judicial", "penalty"])
    assert e.pk not in flags  # the repaired record stops showing, as in the archive


def test_flags_only_use_the_categories_the_reader_may_see(risky):
    d, e = risky["d"], risky["e"]
    flags = risk_flags({d.pk: "active", e.pk: "active"}, categories=["penalty"])
    assert d.pk not in flags  # the judicial record is not public
    assert [f.code for f in flags[e.pk]] == ["negative_info"]


def test_published_dishonest_listing_counts_outside_the_readers_categories(risky):
    d = risky["d"]
    flags = risk_flags({d.pk: "active"}, categories=["penalty"], published_dishonest=True)
    # the court-published 失信 listing shows; the judicial record itself stays non-public
    assert [f.code for f in flags[d.pk]] == ["dishonest"]


def test_related_parties_show_only_public_information_to_the_centres_reader(risky):
    # A full reader of the centre sees the centre's own non-public facts, but a related party
    # never consented to that reader: its judicial record is not counted, its 失信 listing is.
    graph = _build(risky["c"], hops=3, fact_categories=["judicial", "penalty"])
    d = graph.nodes[(ENTITY, risky["d"].pk)]
    assert [f.code for f in d.flags if f.code != "guarantee_circle"] == ["dishonest"]


# --- who may see what -------------------------------------------------------------------------


@pytest.fixture
def own(enterprise_user):
    """The enterprise user's entity guarantees a partner, which guarantees it back."""
    entity = enterprise_user.organisation.market_entity
    partner = _entity(_person("冯伙伴", 111), name="互保伙伴有限公司")
    _guarantee(entity, partner, "2000000")
    _guarantee(partner, entity, "2000000")
    return entity, partner


def _grant(enterprise_user, institution, **kw):
    args = dict(
        entity=enterprise_user.organisation.market_entity,
        actor=enterprise_user,
        institution=institution,
        scope="full",
        purpose="loan_application",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    args.update(kw)
    return archive_services.authorisation_grant(**args)


def test_enterprise_sees_its_own_graph_with_guarantees_and_nothing_is_logged(own, enterprise_user):
    entity, partner = own
    graph = archive_selectors.relationship_graph(
        user=enterprise_user, entity=entity, hops=2, channel="page"
    )
    assert graph.own and graph.guarantees
    assert [[m.entity_id for m in c.members] for c in graph.circles] == [
        sorted([entity.pk, partner.pk])
    ]
    assert not QueryLog.objects.exists()


def test_another_enterprise_may_not_read_the_graph(own, make_user):
    entity, _partner = own
    from xinrong.enterprises.services import enterprise_register

    stranger = enterprise_register(
        uscc=valid_uscc(seed=2),
        name="另一家企业有限公司",
        legal_rep_name="陈某",
        legal_rep_id_number=valid_id_number(seed=2),
        username="stranger",
        password="Stranger-pass-2026",
        industry_code="F51",
        division_code="630102",
    )
    with pytest.raises(PermissionDeniedError):
        archive_selectors.relationship_graph(user=stranger, entity=entity, hops=1, channel="page")


def test_institution_without_authorisation_is_refused_and_nothing_is_logged(own, bank_officer):
    entity, _partner = own
    with pytest.raises(PermissionDeniedError) as exc:
        archive_selectors.relationship_graph(
            user=bank_officer, entity=entity, hops=2, channel="page"
        )
    assert exc.value.code == "authorisation_required"
    assert not QueryLog.objects.exists()


def test_public_scope_shows_the_public_layer_without_logging(own, enterprise_user, bank_officer):
    entity, partner = own
    _grant(enterprise_user, bank_officer.organisation, scope="public")
    graph = archive_selectors.relationship_graph(
        user=bank_officer, entity=entity, hops=2, channel="page"
    )
    assert not graph.guarantees and graph.circles == []
    assert ("e", partner.pk) not in graph.nodes  # reached only through guarantees
    assert set(graph.fact_categories) <= {
        "registration_change",
        "penalty",
        "abnormal_operation",
        "honour",
    }
    assert not QueryLog.objects.exists()


def test_full_authorisation_shows_guarantees_and_logs_the_read(own, enterprise_user, bank_officer):
    entity, partner = own
    auth = _grant(enterprise_user, bank_officer.organisation)
    graph = archive_selectors.relationship_graph(
        user=bank_officer, entity=entity, hops=2, channel="api"
    )
    assert graph.guarantees and graph.authorisation == auth and not graph.own
    assert ("e", partner.pk) in graph.nodes and graph.circles
    log = QueryLog.objects.get()
    assert (log.entity, log.user, log.authorisation, log.channel, log.purpose) == (
        entity,
        bank_officer,
        auth,
        "api",
        "loan_application",
    )
    assert "relationship_graph" in log.categories and "judicial" in log.categories


def test_chosen_scope_flags_chosen_categories_but_hides_guarantees(
    risky, enterprise_user, bank_officer
):
    entity = enterprise_user.organisation.market_entity
    registry.relationship_add(
        entity=risky["d"], kind="shareholder", holder_entity=entity, share_ratio=10
    )
    _grant(enterprise_user, bank_officer.organisation, scope="chosen", categories=["judicial"])
    graph = archive_selectors.relationship_graph(
        user=bank_officer, entity=entity, hops=1, channel="page"
    )
    assert not graph.guarantees
    flags = {f.code for f in graph.nodes[("e", risky["d"].pk)].flags}
    assert "dishonest" in flags and "guarantee_circle" not in flags
    log = QueryLog.objects.get()
    assert log.categories == ["judicial"]


def test_revoked_authorisation_stops_graph_reads(own, enterprise_user, bank_officer):
    entity, _partner = own
    auth = _grant(enterprise_user, bank_officer.organisation)
    archive_services.authorisation_revoke(authorisation=auth, actor=enterprise_user)
    with pytest.raises(PermissionDeniedError):
        archive_selectors.relationship_graph(
            user=bank_officer, entity=entity, hops=1, channel="page"
        )


def test_government_sees_the_public_layer_as_in_the_archive(own, gov_reviewer):
    entity, _partner = own
    graph = archive_selectors.relationship_graph(
        user=gov_reviewer, entity=entity, hops=2, channel="page"
    )
    assert not graph.guarantees and graph.authorisation is None
    assert not QueryLog.objects.exists()


@pytest.mark.parametrize("hops", [0, 4, -1, True])
def test_hops_outside_one_to_three_are_refused_naming_the_field(own, enterprise_user, hops):
    entity, _partner = own
    with pytest.raises(ApplicationError) as exc:
        archive_selectors.relationship_graph(
            user=enterprise_user, entity=entity, hops=hops, channel="page"
        )
    assert exc.value.status == 422 and exc.value.extra == {"field": "hops"}
    assert "hops" in exc.value.message


# --- API and pages ----------------------------------------------------------------------------


@pytest.fixture
def api_key(bank_admin):
    from xinrong.accounts.services.api_keys import api_key_create

    _key, raw = api_key_create(organisation=bank_admin.organisation, name="信贷", actor=bank_admin)
    return raw


@pytest.mark.parametrize(
    ("hops", "fragment"), [("0", "不能小于 1"), ("4", "不能大于 3"), ("abc", "应为整数")]
)
def test_api_bad_hops_is_422_naming_the_field_in_chinese(client, own, api_key, hops, fragment):
    entity, _partner = own
    response = client.get(f"/api/v1/credit/graph/{entity.uscc}?hops={hops}", HTTP_X_API_KEY=api_key)
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == "hops"
    assert "hops" in body["message"] and fragment in body["message"]


def test_api_needs_authorisation_then_returns_the_graph_and_logs_it(
    client, own, api_key, enterprise_user, bank_admin
):
    entity, partner = own
    url = f"/api/v1/credit/graph/{entity.uscc}?hops=2"
    refused = client.get(url, HTTP_X_API_KEY=api_key)
    assert refused.status_code == 403 and refused.json()["code"] == "authorisation_required"
    _grant(enterprise_user, bank_admin.organisation)
    body = client.get(url, HTTP_X_API_KEY=api_key).json()
    ids = {n["id"] for n in body["nodes"]}
    assert f"e:{entity.uscc}" in ids and f"e:{partner.uscc}" in ids
    assert any(n["kind"] == "person" and n["id"].startswith("p:") for n in body["nodes"])
    (guarantee,) = [
        e for e in body["edges"] if e["kind"] == "guarantee" and e["target"] == f"e:{entity.uscc}"
    ]
    assert Decimal(guarantee["amount"]) == Decimal("2000000")
    assert body["circles"][0]["members"][0]["in_graph"] is True
    assert body["access"]["scope"] == "full" and body["access"]["guarantees"] is True
    assert "马明" not in str(body)  # the legal representative's name is masked
    log = QueryLog.objects.get()
    assert log.channel == "api" and "relationship_graph" in log.categories


def test_own_page_and_json_show_the_graph(client, own, enterprise_user):
    entity, _partner = own
    client.force_login(enterprise_user)
    page = client.get(f"/credit/graph/{entity.uscc}/")
    assert page.status_code == 200
    assert 'id="graph-chart"' in page.content.decode()
    data = client.get(f"/credit/graph/{entity.uscc}/data.json?hops=1").json()
    assert data["hops"] == 1 and data["access"]["own"] is True
    assert len(data["circles"]) == 1
    bad = client.get(f"/credit/graph/{entity.uscc}/data.json?hops=9")
    assert bad.status_code == 422 and bad.json()["extra"]["field"] == "hops"
    assert "hops" in bad.json()["message"]


def test_page_refuses_an_institution_without_authorisation(client, own, bank_officer):
    entity, _partner = own
    client.force_login(bank_officer)
    assert client.get(f"/credit/graph/{entity.uscc}/").status_code == 403
    assert client.get(f"/credit/graph/{entity.uscc}/data.json").status_code == 403


def test_query_log_page_names_graph_reads(client, own, enterprise_user, bank_officer):
    entity, _partner = own
    _grant(enterprise_user, bank_officer.organisation)
    client.force_login(bank_officer)
    assert client.get(f"/credit/graph/{entity.uscc}/data.json?hops=2").status_code == 200
    client.force_login(enterprise_user)
    page = client.get("/credit/query-log/").content.decode()
    assert "关系图谱（担保关系、关联联系电话）" in page


def test_archive_and_registry_pages_link_to_the_graph(client, own, enterprise_user):
    entity, _partner = own
    client.force_login(enterprise_user)
    for url in (f"/credit/archive/{entity.uscc}/", f"/enterprises/{entity.uscc}/", "/"):
        assert f"/credit/graph/{entity.uscc}/" in client.get(url).content.decode(), url
