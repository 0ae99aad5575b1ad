"""Demo financing history: demands, applications in every state and loans with repayments.

Loan outcomes are not invented per row: each borrower's default is drawn from the documented
synthetic process (credit/synthetic.py) applied to its features *as of the disbursement month*,
so a model trained on the platform's own outcomes has a real signal to recover. Modules:
``financing`` (who borrows what, outcomes, the entry point), ``applications`` (timelines, loans),
``repayments`` (schedules paid, loan facts for datahub), ``demands``; texts in ``data/``.
"""

from xinrong.marketplace.demo.base import FinancingReport
from xinrong.marketplace.demo.financing import seed_financing

__all__ = ["FinancingReport", "seed_financing"]
