"""API schemas for accounts."""

from ninja import Field, Schema

from xinrong.accounts import signing


class OrganisationOut(Schema):
    """An organisation as seen by its members."""

    id: int
    name: str
    kind: str
    kind_label: str
    region_code: str


class MeOut(Schema):
    """The calling user (or API key's service account)."""

    username: str
    display_name: str
    organisation: OrganisationOut | None
    roles: list[str]


class SignedHeadersIn(Schema):
    """The headers of a signed request (checked by SignedRequestAuth before the operation runs)."""

    key: str = Field(
        alias="X-Xinrong-Key", max_length=16, description="API 密钥前缀（xr_<前缀>_<密钥>）"
    )
    timestamp: str = Field(
        alias="X-Xinrong-Timestamp",
        max_length=12,
        description="Unix 时间戳（秒），与服务器时间相差不得超过 ±300 秒",
    )
    nonce: str = Field(
        alias="X-Xinrong-Nonce",
        min_length=signing.NONCE_MIN,
        max_length=signing.NONCE_MAX,
        description="随机串，16–64 个字母、数字或 - _ . :；同一密钥在时间窗口内不得重复",
    )
    signature_method: str = Field(
        alias="X-Xinrong-Signature-Method", max_length=16, description="HMAC-SHA256 或 HMAC-SM3"
    )


class SignedWriteHeadersIn(SignedHeadersIn):
    """The headers of a signed write: the signing headers and an idempotency key."""

    idempotency_key: str = Field(
        alias="Idempotency-Key",
        min_length=signing.IDEMPOTENCY_MIN,
        max_length=signing.IDEMPOTENCY_MAX,
        description="幂等键，8–128 个字母、数字或 - _ . :；重发同一报文时使用同一幂等键，"
        "平台只执行一次并返回首次的结果",
    )
