"""The chain detects an altered, a removed (middle or last) and an inserted row; triggers refuse."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from xinrong.audit.db import triggers_sql
from xinrong.audit.models import AuditEntry
from xinrong.audit.services import audit_chain_verify, audit_record, entry_hash

pytestmark = pytest.mark.django_db


def _five() -> list[AuditEntry]:
    return [
        audit_record(
            category="security",
            action="login",
            actor_username=f"user{i}",
            enterprise_uscc="91630000000000000X" if i == 2 else "",
            details={"n": i, "password": "never"},
        )
        for i in range(5)
    ]


def _attacker_drops_triggers() -> None:
    with connection.cursor() as cur:
        for sql in triggers_sql(connection.vendor, drop=True):
            cur.execute(sql)


def _verify() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), err.getvalue()
    return 0, out.getvalue()


def test_an_untouched_chain_verifies_and_keeps_no_secret():
    entries = _five()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1].prev_hash == entries[0].hash
    assert "password" not in AuditEntry.objects.get(seq=1).details
    code, text = _verify()
    assert code == 0
    assert "审计日志完整" in text and "共 5 条" in text


@override_settings(XINRONG_AUDIT_PURGE_ALLOWED=False)
def test_the_database_refuses_update_and_delete():
    _five()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=2).update(action="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=5).delete()
    assert AuditEntry.objects.count() == 5


def test_an_altered_row_is_detected():
    _five()
    _attacker_drops_triggers()
    AuditEntry.objects.filter(seq=3).update(actor_username="someone-else")
    code, text = _verify()
    assert code == 1
    assert "第 3 条" in text and "改动" in text


def test_a_removed_middle_row_is_detected():
    _five()
    _attacker_drops_triggers()
    AuditEntry.objects.filter(seq=3).delete()
    code, text = _verify()
    assert code == 1
    assert "第 3 条" in text and "删除" in text


def test_a_removed_middle_row_with_renumbered_rest_is_detected():
    _five()
    _attacker_drops_triggers()
    AuditEntry.objects.filter(seq=3).delete()
    for seq in (4, 5):
        AuditEntry.objects.filter(seq=seq).update(seq=seq - 1)
    code, text = _verify()
    assert code == 1
    assert "第 3 条" in text


def test_a_removed_last_row_is_detected():
    _five()
    _attacker_drops_triggers()
    AuditEntry.objects.filter(seq=5).delete()
    code, text = _verify()
    assert code == 1
    assert "第 5 条" in text and "末尾" in text


def _forged(after: AuditEntry, seq: int) -> AuditEntry:
    forged = AuditEntry(
        seq=seq,
        created_at=after.created_at,
        category="security",
        action="login",
        actor_username="ghost",
        details={},
        prev_hash=after.hash,
    )
    forged.hash = entry_hash(prev_hash=forged.prev_hash, canonical=forged.canonical())
    return forged


def test_an_inserted_middle_row_is_detected():
    entries = _five()
    _attacker_drops_triggers()
    for seq in (5, 4, 3):  # make room after seq 2, from the end so seq stays unique
        AuditEntry.objects.filter(seq=seq).update(seq=seq + 1)
    _forged(entries[1], 3).save(force_insert=True)
    code, text = _verify()
    assert code == 1
    assert "第 4 条" in text and "衔接" in text


def test_an_inserted_last_row_with_a_valid_link_is_detected_by_the_head():
    entries = _five()
    _forged(entries[4], 6).save(force_insert=True)  # inserting needs no trigger dropped
    result = audit_chain_verify()
    assert not result.ok
    assert result.bad_seq == 6
