"""Demo data of credit parts seeded after the rest (issue 16: the white and black lists)."""
