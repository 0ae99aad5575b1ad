"""The audit trail: one append-only, SM3 hash-chained log of every security-relevant event."""
