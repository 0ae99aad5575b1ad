"""Reads of credit information, one module per subdomain."""
