"""Risk compensation and credit enhancement (风险补偿与增信): funds, ledger, claims, guarantees."""
