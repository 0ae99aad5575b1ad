"""Settings for the test suite: the real settings with fast hashing and plain static storage."""

import os

os.environ.setdefault("XINRONG_INSECURE_COOKIES", "1")

from xinrong.config.settings import *  # noqa: F403
from xinrong.config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Messages stay in memory: django.core.mail.outbox (pytest-django) and notifications.sms.outbox.
XINRONG_SMS_BACKEND = "xinrong.notifications.sms.LocmemBackend"
XINRONG_AUDIT_PURGE_ALLOWED = True  # test databases are flushed between tests (audit.db)
