"""The audit trail: one append-only, SM3 hash-chained log of every security-relevant event."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "xinrong.audit"
    label = "audit"
    verbose_name = _("审计日志")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        from xinrong.audit.db import connection_prepare

        connection_created.connect(connection_prepare, dispatch_uid="xinrong_audit_sqlite_fn")
        for conn in connections.all(initialized_only=True):  # opened before the app was ready
            if conn.connection is not None:
                connection_prepare(None, conn)
