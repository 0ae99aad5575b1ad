"""Organisation kinds and roles."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    """What kind of organisation a user belongs to."""

    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")
    BANK = "bank", _("银行")
    MICROLOAN = "microloan", _("小额贷款公司")
    INSURER = "insurer", _("保险机构")
    GUARANTOR = "guarantor", _("融资担保机构")
    INVESTOR = "investor", _("投资机构/股权交易中心")
    GOVERNMENT = "government", _("政府部门")
    OPERATOR = "operator", _("平台运营方")
    SUBSTATION = "substation", _("子站")


class OrgGroup(models.TextChoices):
    """The four sides of the platform; navigation and home pages follow the group."""

    ENTERPRISE = "enterprise", _("企业")
    INSTITUTION = "institution", _("金融机构")
    GOVERNMENT = "government", _("政府部门")
    OPERATOR = "operator", _("平台运营")


ORG_GROUP: dict[str, OrgGroup] = {
    OrgKind.ENTERPRISE: OrgGroup.ENTERPRISE,
    OrgKind.INDIVIDUAL_BUSINESS: OrgGroup.ENTERPRISE,
    OrgKind.BANK: OrgGroup.INSTITUTION,
    OrgKind.MICROLOAN: OrgGroup.INSTITUTION,
    OrgKind.INSURER: OrgGroup.INSTITUTION,
    OrgKind.GUARANTOR: OrgGroup.INSTITUTION,
    OrgKind.INVESTOR: OrgGroup.INSTITUTION,
    OrgKind.GOVERNMENT: OrgGroup.GOVERNMENT,
    OrgKind.OPERATOR: OrgGroup.OPERATOR,
    OrgKind.SUBSTATION: OrgGroup.OPERATOR,
}

INSTITUTION_KINDS = frozenset(k for k, g in ORG_GROUP.items() if g == OrgGroup.INSTITUTION)
# Organisations whose systems call the API: institutions, and departments delivering data.
API_KEY_KINDS = INSTITUTION_KINDS | {OrgKind.GOVERNMENT}


class Role(models.TextChoices):
    """A user's role inside its organisation."""

    INSTITUTION_ADMIN = "institution_admin", _("机构管理员")
    LOAN_OFFICER = "loan_officer", _("客户经理")
    REVIEWER = "reviewer", _("审批人员")
    DATA_PROVIDER = "data_provider", _("数据报送员")
    POLICY_PUBLISHER = "policy_publisher", _("政策发布员")
    FUND_APPROVER = "fund_approver", _("资金审批人")
    OPERATOR_ADMIN = "operator_admin", _("运营管理员")
    AUDITOR = "auditor", _("审计员")
    ENTERPRISE_OWNER = "enterprise_owner", _("企业主")
    ENTERPRISE_AGENT = "enterprise_agent", _("企业经办人")
    # 甘霖工程: bank staff and community workers who go door to door to build merchant files
    FIELD_OFFICER = "field_officer", _("网格员")


ROLES_BY_GROUP: dict[str, frozenset[str]] = {
    OrgGroup.INSTITUTION: frozenset(
        {Role.INSTITUTION_ADMIN, Role.LOAN_OFFICER, Role.REVIEWER, Role.FIELD_OFFICER}
    ),
    OrgGroup.GOVERNMENT: frozenset(
        {Role.DATA_PROVIDER, Role.POLICY_PUBLISHER, Role.FUND_APPROVER, Role.FIELD_OFFICER}
    ),
    OrgGroup.OPERATOR: frozenset({Role.OPERATOR_ADMIN, Role.AUDITOR}),
    OrgGroup.ENTERPRISE: frozenset({Role.ENTERPRISE_OWNER, Role.ENTERPRISE_AGENT}),
}


# Who manages an organisation's API keys, besides the platform operator's admins.
KEY_MANAGER_ROLES = (Role.INSTITUTION_ADMIN, Role.DATA_PROVIDER)
# The roles an API key's service user acts with, by platform side. An institution's system is its
# system of record: it pushes the officer's steps and the reviewer's decisions alike, so its key
# holds both roles (docs/decisions/0005-bank-api-signing.md).
SERVICE_ROLES: dict[str, tuple[str, ...]] = {
    OrgGroup.INSTITUTION: (Role.LOAN_OFFICER, Role.REVIEWER),
    OrgGroup.GOVERNMENT: (Role.DATA_PROVIDER,),
}
