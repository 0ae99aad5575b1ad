"""The credit report (企业信用报告) as PDF: its content, its number and its layout.

``content.compose`` turns what a reader may see (the archive from
``selectors.archive.archive_read``, the latest profile, the query log) into display text:
personal identifiers masked, amounts in yuan, choice codes in Chinese, negative information past
its retention date left out. ``pdf.render`` lays that out on A4 with reportlab platypus,
embedding a CJK TrueType font (``XINRONG_CJK_FONT``, Debian's WenQuanYi Micro Hei by default) so
the PDF reads the same on every machine, with the report number and "page X / Y" on every page
and a QR code to the public verification page.

The SM3 digest of the PDF cannot be printed inside the PDF it hashes: the report prints its
number and the verification address, and the verification page shows the digest.

Modules: ``numbers`` (report numbers and digests), ``content`` (what the report says),
``pdf`` (fonts and layout).
"""
