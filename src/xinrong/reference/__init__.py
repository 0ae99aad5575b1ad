"""National standards and reference data: USCC, divisions, industries, enterprise size."""
