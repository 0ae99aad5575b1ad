"""Pages of credit, one module per subdomain."""
