"""Who may see and do what in the policy module, one submodule per subdomain."""

from xinrong.policies.rules import catalogue, evidence, funds, matching, pboc  # noqa: F401
