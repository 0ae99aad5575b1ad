"""Forms of the risk fund, one module per subdomain."""
