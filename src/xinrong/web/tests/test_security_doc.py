"""docs/security.md's table of who may do what is generated from the permission layer."""

from __future__ import annotations

from pathlib import Path

from xinrong.accounts.permissions import PERMISSIONS
from xinrong.web.access_table import access_table, render_into

DOC = Path(__file__).resolve().parents[4] / "docs" / "security.md"


def test_the_table_in_docs_security_is_current():
    text = DOC.read_text(encoding="utf-8")
    assert render_into(text) == text, "run: xinrong security_doc"


def test_the_table_has_a_row_per_permission_and_marks_what_roles_may_do():
    rows = [line for line in access_table().splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(PERMISSIONS)
    by_name = {row.split("`")[1]: row.split(" | ") for row in rows}
    # columns: 操作, 名称, 运营管理员, 审计员, 子站运营, 机构管理员 … 企业经办人, 对象与范围
    model_manage = by_name["credit.model_manage"]
    assert model_manage[2] == "✓" and model_manage[3] == "" and model_manage[4] == ""
    deliver = by_name["datahub.batch_deliver"]
    assert [i for i, c in enumerate(deliver) if c == "✓"] == [9]  # the data reporter only
