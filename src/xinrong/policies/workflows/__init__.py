"""The policy module's workflows on the kernel (xinrong.workflows.kernel), one per subdomain."""

from xinrong.policies.workflows import catalogue, funds, subsidy  # noqa: F401
