"""The platform's own number formats, read before Django's (``FORMAT_MODULE_PATH``)."""
