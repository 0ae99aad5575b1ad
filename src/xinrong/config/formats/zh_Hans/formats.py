"""Number formats: "45,800,000.00" (see xinrong.config.formats)."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
