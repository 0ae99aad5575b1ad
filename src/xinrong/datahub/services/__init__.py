"""Writes of the data hub, by subdomain: ``sources``, ``ingest``, ``quality``, ``conflicts``.

``facts`` stores validated rows column-wise for ingestion, association and demo data. Callers
import the submodule they need (``from xinrong.datahub.services.ingest import batch_ingest``).
"""
