"""A tiny OpenID Connect provider (django-oauth-toolkit) the sign-on tests run against.

Not part of the platform: a separate Django project started as a subprocess by
``test_sso_browser.py`` with its own SQLite file, RSA key and users in a temporary directory
(``OIDC_PROVIDER_DIR``), on a free loopback port (``OIDC_PROVIDER_PORT``).
"""
