"""Demo 信用创评 records across Qinghai: for the last two years, every village's credit households
and whether it was rated a credit village, and which townships were rated credit townships.

Figures grow from one year to the next and are denser in the agricultural east (西宁, 海东) than
on the plateau. Idempotent: nothing is written when records exist.
"""

from __future__ import annotations

import random

from django.utils import timezone

from xinrong.insight.models import CampaignRecord
from xinrong.reference import divisions

# share of villages rated credit villages and mean credit households per village, by prefecture
_DENSITY = {"6301": 0.55, "6302": 0.5, "6322": 0.35, "6323": 0.3, "6325": 0.35}
_DEFAULT_DENSITY = 0.2


def seed_campaigns(seed_value: int) -> int:
    """Write the demo records; return how many were written."""
    if CampaignRecord.objects.exists():
        return 0
    rng = random.Random(seed_value * 16 + 3)  # noqa: S311 - demo data, not secrets
    this_year = timezone.localdate().year
    records: list[CampaignRecord] = []
    qinghai = [d for d in divisions.all_divisions() if d.code.startswith("63")]
    for d in qinghai:
        density = _DENSITY.get(d.code[:4], _DEFAULT_DENSITY)
        if d.level == divisions.LEVEL_VILLAGE:
            base = rng.randint(5, 40) + int(density * rng.randint(40, 160))
            credit_village = rng.random() < density
            for year, growth in ((this_year - 1, 1.0), (this_year, 1.0 + rng.random() * 0.3)):
                records.append(
                    CampaignRecord(
                        division_code=d.code,
                        year=year,
                        credit_households=int(base * growth),
                        credit_villages=int(
                            credit_village or (year == this_year and rng.random() < 0.1)
                        ),
                    )
                )
        elif d.level == divisions.LEVEL_TOWNSHIP:
            rated = rng.random() < density * 0.6
            for year in (this_year - 1, this_year):
                records.append(
                    CampaignRecord(
                        division_code=d.code,
                        year=year,
                        credit_townships=int(rated or (year == this_year and rng.random() < 0.1)),
                    )
                )
    CampaignRecord.objects.bulk_create(records, batch_size=2000)
    return len(records)
