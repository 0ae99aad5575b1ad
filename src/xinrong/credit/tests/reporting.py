"""Test data for credit reports: facts of several categories, a score, PDF text extraction."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

from django.utils import timezone

from xinrong.credit.models import CreditProfile, CreditReport, ScoreModel
from xinrong.credit.scorecard import BinnedFeature, Scorecard
from xinrong.credit.services import archive as archive_services
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.models import MarketEntity

SOMEONES_ID = "630102199001011234"
SOMEONES_PHONE = "13812345678"


def _deliver(source, category: str, text: str) -> None:
    batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode("utf-8")),
        filename=f"{category}.csv",
        channel="cli",
    )


def deliver_facts(entity: MarketEntity, make_user, *, extra_tax_rows: int = 0) -> None:
    """Tax (with a person's name and old and recent arrears), a registration change of the
    legal representative, a court case of a dishonest debtor (negative) and a penalty."""
    dept = make_user("government", ["data_provider"])
    src = source_create(
        code=f"dept{dept.pk}",
        name="青海省政务数据局",
        organisation=dept.organisation,
        categories=["tax", "registration_change", "judicial", "penalty"],
    )
    u = entity.uscc
    tax = [
        "统一社会信用代码,所属期,实缴税额（元）,欠税金额（元）,法定代表人",
        f"{u},2024-06,1000,0,马明",
        f"{u},2015-06,0,300,马明",
        f"{u},2025-03,200,500,马明",
    ]
    tax += [f"{u},{2000 + i // 12:04d}-{i % 12 + 1:02d},{10 + i},0," for i in range(extra_tax_rows)]
    _deliver(src, "tax", "\n".join(tax) + "\n")
    _deliver(
        src,
        "registration_change",
        "统一社会信用代码,变更事项,变更前,变更后,变更日期\n"
        f"{u},法定代表人,王小明,马明,2024-03-15\n",
    )
    _deliver(
        src,
        "judicial",
        "统一社会信用代码,案号,诉讼地位,案由,标的金额（元）,立案日期,案件状态,结案日期,失信被执行人\n"
        f"{u},(2024)青0102执123号,executed,"
        f"买卖合同纠纷（担保人身份证{SOMEONES_ID}，电话{SOMEONES_PHONE}）,"
        "150000,2024-02-01,closed,2024-08-20,是\n",
    )
    _deliver(
        src,
        "penalty",
        f"统一社会信用代码,决定书文号,严重程度,处罚日期\n{u},青罚〔2024〕1号,minor,2024-05-01\n",
    )


def give_score(entity: MarketEntity, *, score: int = 688, grade: str = "AA") -> CreditProfile:
    """A hand-built one-feature scorecard and a profile scored by it."""
    card = Scorecard(
        features=[
            BinnedFeature(
                name="years_in_business",
                splits=[3.0],
                woe=[-0.5, 0.5, 0.0],
                points=[20.0, 60.0, 30.0],
                counts=[10, 10, 1],
                event_rates=[0.2, 0.05, 0.1],
                iv=0.1,
                coef=-1.0,
                trend="descending",
            )
        ],
        intercept=0.0,
    )
    model = ScoreModel.objects.create(
        version=(ScoreModel.objects.count() + 1), name="测试评分卡", card=card.to_json()
    )
    return CreditProfile.objects.create(
        entity=entity,
        model=model,
        score=score,
        grade=grade,
        dim_basic=72.5,
        dim_tax=40.0,
        dim_judicial=10.0,
        reasons="dishonest,tax_arrears_months",
        computed_at=timezone.now() - dt.timedelta(days=1),
    )


def grant(entity: MarketEntity, owner, institution, **kw):
    args = dict(
        entity=entity,
        actor=owner,
        institution=institution,
        scope="full",
        purpose="loan_application",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    args.update(kw)
    return archive_services.authorisation_grant(**args)


def pdf_bytes(report: CreditReport) -> bytes:
    with report.file.open("rb") as fh:
        return fh.read()


def _tool(name: str) -> str:
    """Absolute path of a poppler-utils program (pdftotext, pdffonts)."""
    path = shutil.which(name)
    assert path, f"{name} (poppler-utils) is required by the report tests"
    return path


def pdf_text(data: bytes, tmp_path: Path, mode: str = "-layout") -> str:
    """Extract the text with pdftotext (``-layout`` by default)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        [_tool("pdftotext"), mode, str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return out.stdout.decode("utf-8")


def pdf_joined(data: bytes, tmp_path: Path) -> str:
    """The text in content order with all white space removed, so a table cell's wrapped
    lines join up again: what an absence check must search."""
    return "".join(pdf_text(data, tmp_path, "-raw").split())


def pdf_fonts(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        [_tool("pdffonts"), str(path)], capture_output=True, check=True, timeout=60
    )
    return out.stdout.decode("utf-8")
