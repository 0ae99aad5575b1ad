"""Simplified Chinese: amounts grouped by thousands with a comma, as Chinese banks print them.

Django's zh_Hans leaves the thousands separator empty, so ``floatformat:"2g"`` printed
``620000.00 元``; only the settings below differ from Django's, the rest are read from it.
"""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
