"""`xinrong backup` / `xinrong restore`: a round trip gives back every table, row for row.

Runs on the suite's database (SQLite here, PostgreSQL on the CI leg with DATABASE_URL).
"""

from __future__ import annotations

import io
import json
import tarfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from xinrong.web.backup import DB_MEMBER, FORMAT, table_fingerprints

pytestmark = pytest.mark.django_db(transaction=True)


def _load(make_user):
    from xinrong.enterprises.tests.factories import MarketEntityFactory, PersonFactory
    from xinrong.riskfund.tests.factories import fund_world, platform_loan

    world = fund_world(make_user, balance=Decimal("5000000.00"))
    platform_loan(world.bank, world.officer, world.product, principal="800000.00")
    world.spare_entity = MarketEntityFactory.create_batch(3)[0]  # no loans: may be deleted
    PersonFactory.create_batch(2)  # encrypted ID numbers: bytes survive the trip
    return world


def test_round_trip_gives_back_every_table(make_user, tmp_path, settings):
    from xinrong.enterprises.models import MarketEntity
    from xinrong.enterprises.tests.factories import MarketEntityFactory
    from xinrong.riskfund.models import Fund

    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "reports").mkdir(parents=True)
    (tmp_path / "media" / "reports" / "r1.pdf").write_bytes(b"%PDF-1.7 report")
    world = _load(make_user)
    before = table_fingerprints()
    assert before["riskfund_fund"][0] == 1 and before["enterprises_marketentity"][0] >= 3
    assert len(before) > 50  # every table of every app, not a sample
    archive = tmp_path / "b.tar"
    out = io.StringIO()
    call_command("backup", output=archive, stdout=out)
    assert "备份完成" in out.getvalue()
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert sorted(tar.getnames()) == sorted(
            ["manifest.json", DB_MEMBER[connection.vendor], "media/reports/r1.pdf"]
        )
    assert manifest["backend"] == connection.vendor and manifest["format"] == FORMAT
    assert ["riskfund", "0001_initial"] in manifest["migrations"]

    # Changes after the backup: a row changed, one added, one removed, a file lost.
    Fund.objects.filter(pk=world.fund.pk).update(name="改过的基金")
    MarketEntityFactory()
    MarketEntity.objects.filter(pk=world.spare_entity.pk).delete()
    (tmp_path / "media" / "reports" / "r1.pdf").unlink()
    changed = table_fingerprints()
    assert changed != before

    out = io.StringIO()
    call_command("restore", str(archive), stdout=out)
    assert "恢复完成" in out.getvalue()
    after = table_fingerprints()
    assert after.keys() == before.keys()
    differing = [t for t in before if before[t] != after[t]]
    assert differing == []
    assert (tmp_path / "media" / "reports" / "r1.pdf").read_bytes() == b"%PDF-1.7 report"
    assert Fund.objects.get(pk=world.fund.pk).name == world.fund.name


def _fake_archive(path, manifest):
    with tarfile.open(path, "w") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_restore_refuses_the_other_backend_and_foreign_files(tmp_path):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    _fake_archive(tmp_path / "other.tar", {"format": FORMAT, "backend": other, "migrations": []})
    with pytest.raises(CommandError, match=r"数据库，当前使用的是 .* 数据库，不能恢复"):
        call_command("restore", str(tmp_path / "other.tar"))
    (tmp_path / "junk.tar").write_bytes(b"not an archive")
    with pytest.raises(CommandError, match="这不是信融备份文件"):
        call_command("restore", str(tmp_path / "junk.tar"))
    newer = {
        "format": FORMAT,
        "backend": connection.vendor,
        "migrations": [["riskfund", "9999_from_the_future"]],
    }
    _fake_archive(tmp_path / "newer.tar", newer)
    with pytest.raises(CommandError, match=r"riskfund\.9999_from_the_future"):
        call_command("restore", str(tmp_path / "newer.tar"))
    assert table_fingerprints()["django_migrations"][0] > 50  # nothing was touched
