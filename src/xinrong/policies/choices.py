"""Choices of the policy module: levels, measure kinds, statuses."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PolicyLevel(models.TextChoices):
    """Which level of government issued a policy document."""

    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    PREFECTURE = "prefecture", _("市（州）级")
    COUNTY = "county", _("县（区）级")


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class MeasureKind(models.TextChoices):
    """The kinds of support measure (支持措施)."""

    SUBSIDY = "subsidy", _("资金补贴")
    AWARD = "award", _("奖励")
    INTEREST_SUBSIDY = "interest_subsidy", _("贷款贴息")
    GUARANTEE_FEE_SUBSIDY = "guarantee_fee_subsidy", _("担保费补贴")
    RISK_COMPENSATION = "risk_compensation", _("贷款风险补偿")
    TAX_RELIEF = "tax_relief", _("税费减免")
    SERVICE = "service", _("服务支持")


class Delivery(models.TextChoices):
    """How an enterprise gets a measure."""

    APPLY = "apply", _("申请办理")
    AUTOMATIC = "automatic", _("免申即享")


class MeasureStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤回")


class FundApplicationStatus(models.TextChoices):
    """A special-fund application's life; the approval steps themselves run on BPMN."""

    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未通过")
    DISBURSED = "disbursed", _("已拨付")
    WITHDRAWN = "withdrawn", _("已撤回")


class GrantSource(models.TextChoices):
    """Where a grant against a measure's budget came from."""

    APPLICATION = "application", _("申请审批")
    AUTOMATIC = "automatic", _("免申即享")
    INTEREST_SUBSIDY = "interest_subsidy", _("贷款贴息")


class GrantStatus(models.TextChoices):
    COMMITTED = "committed", _("已核定待拨付")
    DISBURSED = "disbursed", _("已拨付")
    CANCELLED = "cancelled", _("已取消")


class AutoListStatus(models.TextChoices):
    """A 免申即享 list: drawn by the platform, confirmed by the department, then granted."""

    DRAFT = "draft", _("待确认")
    CONFIRMED = "confirmed", _("已确认并兑现")
    DISCARDED = "discarded", _("已作废")


class SubsidyBatchStatus(models.TextChoices):
    CALCULATED = "calculated", _("已测算待机构确认")
    CONFIRMED = "confirmed", _("机构已确认")
    GRANTED = "granted", _("已兑现")


class SubsidyLineStatus(models.TextChoices):
    PENDING = "pending", _("待机构确认")
    CONFIRMED = "confirmed", _("机构已确认")
    DISPUTED = "disputed", _("机构有异议")


class PbocTool(models.TextChoices):
    """The central bank's structural tools (央行政策工具)."""

    RELENDING_SMALL = "relending_small", _("支小再贷款")
    RELENDING_AGRI = "relending_agri", _("支农再贷款")
    REDISCOUNT = "rediscount", _("再贴现")
    INCLUSIVE_TOOL = "inclusive_tool", _("普惠小微贷款支持工具")
