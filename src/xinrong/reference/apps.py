from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferenceConfig(AppConfig):
    """National standards and reference data (no models)."""

    name = "xinrong.reference"
    label = "reference"
    verbose_name = _("国家标准与参考数据")
