"""Prepare the test provider: an RSA signing key, the platform's client, the users."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application

from xinrong.accounts.tests.oidc_provider import settings


class Command(BaseCommand):
    help = "Create the tables, the RSA key, the OIDC client and the users of the test provider."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--redirect-uri", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", run_syncdb=True, verbosity=0)
        if not settings.KEY_FILE.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            settings.KEY_FILE.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        Application.objects.update_or_create(
            client_id=options["client_id"],
            defaults={
                "name": "信融平台",
                "client_secret": options["client_secret"],
                "client_type": Application.CLIENT_CONFIDENTIAL,
                "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
                "redirect_uris": options["redirect_uri"],
                "algorithm": Application.RS256_ALGORITHM,
                "skip_authorization": True,
            },
        )
        users = json.loads(settings.USERS_FILE.read_text(encoding="utf-8"))
        model = get_user_model()
        for username, entry in users.items():
            user, _created = model.objects.get_or_create(username=username)
            user.set_password(entry["password"])
            user.save()
