"""Pages of the marketplace, one module per subdomain; ``urls.py`` points at each module."""
