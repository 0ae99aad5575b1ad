"""The API contract's shared pieces: the error body, error responses, and typed code formats.

Every schema that carries a unified social credit code, a division or industry code, a date or an
amount of money uses the types below, so the OpenAPI document states each format once (pattern
and format), and clients can validate before they call. ``error_responses`` declares the business
errors an operation can answer with; the API assembly (xinrong.config.api) adds the ones every
operation of a given shape can answer with (401, 400, 413, 422).

It lives in reference (layer 0) because the code formats are national standards and the
reference API itself declares them; every app above may import it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, PlainSerializer, WithJsonSchema

# GB 32100-2015: registration authority (1) + kind (1) + division (6 digits) + organisation code
# (9) + check character (1); letters I, O, S, V, Z are not used (reference.uscc.CHARSET).
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
# county level (6 digits); township (9) and village (12) codes extend it
DIVISION_PATTERN = r"^\d{6}(\d{3}|\d{6})?$"
# GB/T 4754-2017: a section letter A–T, or a division (2 digits) / group (3) / class (4) with
# or without its section letter (as the platform stores it: C13, C131).
INDUSTRY_PATTERN = r"^[A-T]$|^[A-T]?\d{2,4}$"
MONEY_PATTERN = r"^-?\d+\.\d{2}$"

Uscc = Annotated[
    str,
    Field(
        pattern=USCC_PATTERN,
        min_length=18,
        max_length=18,
        description="统一社会信用代码（GB 32100，18 位）",
        examples=["91630100MA752X7Y3R"],
    ),
]
DivisionCode = Annotated[
    str,
    Field(
        pattern=DIVISION_PATTERN,
        description="行政区划代码（GB/T 2260，县级 6 位；乡镇 9 位、村 12 位）",
    ),
]
IndustryCode = Annotated[
    str, Field(pattern=INDUSTRY_PATTERN, description="国民经济行业分类代码（GB/T 4754-2017）")
]
Date = Annotated[dt.date, Field(description="日期（YYYY-MM-DD）")]
DateTime = Annotated[dt.datetime, Field(description="日期时间（ISO 8601，带时区）")]


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


# Money in the answers: a decimal string with two places ("500000.00"), never a float.
Money = Annotated[
    Decimal,
    PlainSerializer(_money, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "decimal",
            "pattern": MONEY_PATTERN,
            "description": "金额（元），两位小数",
        },
        mode="serialization",
    ),
]


class ErrorOut(Schema):
    """The one error body: a stable code, a Chinese message, details naming the field."""

    code: str = Field(description="错误代码（稳定，供程序判断），如 not_found、invalid_input")
    message: str = Field(description="说明（中文；?lang=en 时为英文）")
    extra: dict[str, Any] = Field(
        description="细节；field 指出出错的字段，errors 列出每个字段的错误"
    )


ERROR_DESCRIPTIONS = {
    400: "请求体不是有效的 JSON，或违反业务规则",
    401: "未登录、API 密钥无效或签名不正确",
    403: "无权执行此操作",
    404: "对象不存在或对调用者不可见",
    409: "与对象当前状态冲突",
    413: "请求体过大",
    422: "参数或请求体不合规则（extra.field 指出字段）",
    429: "超过频率或次数限制",
}


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """Return ``{code: ErrorOut}`` for a route's ``response=`` (business errors it can raise)."""
    return {code: ErrorOut for code in codes}
