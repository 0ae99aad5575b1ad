"""Assemble the JSON API at /api/v1 and map errors to the one error contract."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import django_auth

from xinrong.accounts.api import router as accounts_router
from xinrong.accounts.auth import ApiKeyAuth
from xinrong.common.errors import ApplicationError, error_payload
from xinrong.credit.api import router as credit_router
from xinrong.datahub.api import router as datahub_router
from xinrong.enterprises.api import router as enterprises_router
from xinrong.marketplace.api import router as marketplace_router
from xinrong.marketplace.bank_api import router as bank_router
from xinrong.policies.api import router as policies_router
from xinrong.policies.api_calculator import router as policy_calculator_router
from xinrong.reference.api import router as reference_router
from xinrong.reference.schema_types import ERROR_DESCRIPTIONS, ErrorOut


class Utf8JSONRenderer(JSONRenderer):
    """Write Chinese text as UTF-8 instead of \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


def _shape_errors(method: str, operation: dict[str, Any]) -> list[int]:
    """Return the error statuses an operation can answer with because of its shape alone.

    Any operation that asks for credentials can answer 401; any with parameters or a body 422
    (the schema's validation, through the handlers below); any with a body 400 (not JSON; and
    ApplicationError's default) and 413 (larger than DATA_UPLOAD_MAX_MEMORY_SIZE); a write that
    accepts a session 403 (ninja's CSRF check). Business errors (403, 404, 409, 429) are declared
    by each route with ``error_responses``.
    """
    security = {name for requirement in operation.get("security", []) for name in requirement}
    has_body = "requestBody" in operation
    codes = []
    if security:
        codes.append(401)
    if operation.get("parameters") or has_body:
        codes.append(422)
    if has_body:
        codes += [400, 413]
    if method != "get" and "SessionAuth" in security:
        codes.append(403)
    return codes


class XinrongAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document lists every status each operation can answer with."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        error_ref = {"$ref": "#/components/schemas/ErrorOut"}
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(
            "ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for path in schema["paths"].values():
            for method, operation in path.items():
                responses = operation.setdefault("responses", {})
                for code in _shape_errors(method, operation):
                    responses.setdefault(
                        code,
                        {
                            "description": ERROR_DESCRIPTIONS[code],
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
                for code, response in responses.items():
                    if code in ERROR_DESCRIPTIONS and response.get("description") in (
                        None,
                        "",
                        *_REASON_PHRASES,
                    ):
                        response["description"] = ERROR_DESCRIPTIONS[code]
        return schema


# ninja describes a declared status by its HTTP reason phrase; the contract says what it means.
_REASON_PHRASES = (
    "Bad Request",
    "Unauthorized",
    "Forbidden",
    "Not Found",
    "Conflict",
    "Request Entity Too Large",
    "Content Too Large",
    "Unprocessable Entity",
    "Too Many Requests",
)


api = XinrongAPI(
    renderer=Utf8JSONRenderer(),
    title="信融 xinrong API",
    version="1",
    description=(
        "小微企业信用融资服务平台接口。机构系统以请求头 `X-API-Key` 认证；浏览器使用登录会话。"
        "机构对接接口（一网通办，`/api/v1/bank/`）须对每个请求签名（HMAC-SHA256 或 HMAC-SM3），"
        "写操作须带 `Idempotency-Key`，详见 docs/bank-api.md。"
        "错误统一返回 `{code, message, extra}`，`extra.field` 指出出错的字段。"
    ),
    urls_namespace="api",
    docs_url="/docs",
    auth=[ApiKeyAuth(), django_auth],
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, **extra: Any
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "extra": extra}, status=status
    )


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    status, body = error_payload(exc)
    return api.create_response(request, body, status=status)


def _loc_field(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    # ninja prefixes the schema's parameter name; keep the innermost names
    return ".".join(parts[1:] if len(parts) > 1 else parts)


# Pydantic's error types in the platform's language; unknown types keep pydantic's text.
_RULES = {
    "missing": gettext_lazy("为必填项"),
    "int_parsing": gettext_lazy("应为整数"),
    "int_from_float": gettext_lazy("应为整数"),
    "decimal_parsing": gettext_lazy("应为数字"),
    "date_parsing": gettext_lazy("应为日期（YYYY-MM-DD）"),
    "date_from_datetime_parsing": gettext_lazy("应为日期（YYYY-MM-DD）"),
    "greater_than_equal": gettext_lazy("不能小于 %(ge)s"),
    "greater_than": gettext_lazy("必须大于 %(gt)s"),
    "less_than_equal": gettext_lazy("不能大于 %(le)s"),
    "less_than": gettext_lazy("必须小于 %(lt)s"),
    "string_too_long": gettext_lazy("长度不能超过 %(max_length)s 个字符"),
    "string_too_short": gettext_lazy("长度不能少于 %(min_length)s 个字符"),
    "enum": gettext_lazy("取值不在允许范围内：%(expected)s"),
    "literal_error": gettext_lazy("取值不在允许范围内：%(expected)s"),
    "decimal_max_places": gettext_lazy("小数位数不能超过 %(decimal_places)s 位"),
    "decimal_max_digits": gettext_lazy("数字总位数不能超过 %(max_digits)s 位"),
    "decimal_whole_digits": gettext_lazy("整数部分不能超过 %(whole_digits)s 位"),
    "decimal_type": gettext_lazy("应为数字"),
    "finite_number": gettext_lazy("应为有限的数字"),
    "float_type": gettext_lazy("应为数字"),
    "float_parsing": gettext_lazy("应为数字"),
    "int_type": gettext_lazy("应为整数"),
    "int_parsing_size": gettext_lazy("整数超出允许范围"),
    "multiple_of": gettext_lazy("应为 %(multiple_of)s 的整数倍"),
    "string_type": gettext_lazy("应为文本"),
    "string_pattern_mismatch": gettext_lazy("格式不正确"),
    "bool_type": gettext_lazy("应为 true 或 false"),
    "bool_parsing": gettext_lazy("应为 true 或 false"),
    "too_long": gettext_lazy("最多 %(max_length)s 项"),
    "too_short": gettext_lazy("至少 %(min_length)s 项"),
    "list_type": gettext_lazy("应为列表（JSON 数组）"),
    "dict_type": gettext_lazy("应为 JSON 对象"),
    "model_type": gettext_lazy("应为 JSON 对象"),
    "model_attributes_type": gettext_lazy("应为 JSON 对象"),
    "date_type": gettext_lazy("应为日期（YYYY-MM-DD）"),
    "date_from_datetime_inexact": gettext_lazy("应为日期（YYYY-MM-DD），不能带时间"),
    "datetime_type": gettext_lazy("应为日期时间（ISO 8601，如 2026-01-31T09:00:00+08:00）"),
    "datetime_parsing": gettext_lazy("应为日期时间（ISO 8601，如 2026-01-31T09:00:00+08:00）"),
    "datetime_from_date_parsing": gettext_lazy(
        "应为日期时间（ISO 8601，如 2026-01-31T09:00:00+08:00）"
    ),
    "extra_forbidden": gettext_lazy("不是允许的字段"),
    "json_invalid": gettext_lazy("不是有效的 JSON"),
}

# ninja's answer to a body that is not JSON (followed by the parser's error under DEBUG).
_UNPARSABLE_BODY = "Cannot parse request body"


def _rule_message(error: dict[str, Any]) -> str:
    rule = _RULES.get(str(error.get("type", "")))
    if rule is None:
        return str(error.get("msg", ""))
    try:
        return str(rule) % {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    except (KeyError, TypeError, ValueError):
        return str(error.get("msg", ""))


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "field": _loc_field(e.get("loc", [])),
            "message": _rule_message(e),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": ""}
    message = _("字段“%(field)s”%(msg)s") % {
        "field": first["field"],
        "msg": first["message"],
    }
    return _error(request, 422, "invalid_input", message, field=first["field"], errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, 401, "unauthenticated", _("请先登录，或在请求头 X-API-Key 中提供有效的 API 密钥")
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or _("无权访问"))


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024) or 1
    message = _("请求体过大：不能超过 %(mb)s MB，请分批提交") % {"mb": limit}
    return _error(request, 413, "request_too_large", message)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("资源不存在"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if str(exc).startswith(_UNPARSABLE_BODY):
        message = _(
            "请求体（body）不是有效的 JSON，无法解析：请检查引号、逗号和括号，"
            "并以 UTF-8 编码发送 Content-Type: application/json"
        )
        return _error(request, 400, "invalid_json", message, field="body")
    return _error(request, exc.status_code, "http_error", str(exc))


api.add_router("/reference", reference_router)
api.add_router("/accounts", accounts_router)
api.add_router("/enterprises", enterprises_router)
api.add_router("/datahub", datahub_router)
api.add_router("/credit", credit_router)
api.add_router("/marketplace", marketplace_router)
api.add_router("/bank", bank_router)
api.add_router("/policies", policies_router)
api.add_router("/policies", policy_calculator_router)
