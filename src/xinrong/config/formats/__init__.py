"""Project number formats (settings.FORMAT_MODULE_PATH), looked up before Django's own.

Django's zh-hans locale has no thousands separator (``floatformat:"2g"`` and ``intcomma`` print
``45800000.00``); figures on this platform are grouped by thousands in both languages. Only the
number settings are declared here: dates and times fall through to Django's locale modules.
USE_THOUSAND_SEPARATOR stays off (it would group years and ids in ``{{ }}`` output too), so
grouping is asked for where a figure is shown: ``floatformat:"2g"``, ``intcomma``, ``|figure``,
``|count`` or ``|money``.
"""
