"""`makemessages` that also extracts the project's aliases ``N_`` (gettext_noop) and ``_t``."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_", "--keyword=_t"]
