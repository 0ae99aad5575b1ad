"""WSGI entry point (gunicorn xinrong.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinrong.config.settings")
application = get_wsgi_application()
