"""Writes of credit information, one module per subdomain."""
