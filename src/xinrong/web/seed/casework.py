"""A department's week of work for the demo: a delivery with refused rows and open disputes.

The demo's facts are delivered in bulk without errors and nobody disputes them, so the market
regulator's clerk (gov_data) would open an all-zero workbench. This step does what a live week
brings, through the platform's own doors: the clerk uploads a penalty file in which two rows are
wrong (a bad date, a severity that does not exist), and the individual business of ``ib_owner``
disputes the two penalties that were accepted. Run once: a second run finds the delivery.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.db import transaction
from django.utils import timezone

FILENAME = "行政处罚（窗口上传，演示）.csv"
HEADERS = [
    "统一社会信用代码",
    "主体名称",
    "决定书文号",
    "严重程度",
    "处罚日期",
    "罚没金额（元）",
    "公示截止日期",
    "处罚机关",
]


def seed_department_work() -> int:
    """Upload the clerk's penalty file and file the enterprise's disputes; return disputes filed."""
    from xinrong.accounts.models import User
    from xinrong.credit.services.disputes import dispute_file
    from xinrong.datahub.models import Fact, IngestBatch, Source
    from xinrong.datahub.services.ingest import batch_ingest

    source = Source.objects.filter(code="market").first()
    clerk = User.objects.filter(username="gov_data").first()
    owner = User.objects.filter(username="ib_owner").select_related("organisation").first()
    entity = getattr(owner.organisation, "market_entity", None) if owner else None
    if source is None or clerk is None or owner is None or entity is None:
        return 0
    if IngestBatch.objects.filter(source=source, filename=FILENAME).exists():
        return 0
    today = timezone.localdate()

    def day(ago: int) -> str:
        return (today - dt.timedelta(days=ago)).isoformat()

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    writer.writerows(
        [
            [entity.uscc, "", f"市监罚〔{today.year}〕201号", "一般", day(120), "5000", "", ""],
            [entity.uscc, "", f"市监罚〔{today.year}〕202号", "轻微", day(60), "800", "", ""],
            [entity.uscc, "", f"市监罚〔{today.year}〕203号", "很严重", day(30), "100", "", ""],
            [entity.uscc, "", f"市监罚〔{today.year}〕204号", "一般", "2026-13-01", "100", "", ""],
        ]
    )
    with transaction.atomic():
        batch = batch_ingest(
            source=source,
            category="penalty",
            fileobj=io.BytesIO(buf.getvalue().encode("utf-8-sig")),
            filename=FILENAME,
            channel="upload",
            actor=clerk,
        )
        filed = 0
        for fact in Fact.objects.filter(batch=batch):
            asked = "轻微" if fact.grade != "minor" else "一般"
            dispute_file(
                actor=owner,
                fact=fact,
                kind="correction",
                claim=f"处罚决定书载明的情节与档案不符，严重程度应为{asked}。",
                proposed_values={"severity": asked},
            )
            filed += 1
    return filed
