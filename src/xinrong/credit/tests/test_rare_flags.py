"""A rare negative fact (失信被执行人 held by 1–3% of firms) stays on the card and costs points.

optbinning's pre-binning keeps no bin under 5% of the rows by default, so before the rare-bin
rule such a flag got a single bin, IV 0, and was dropped: the worst entity's reasons could not
name its 失信 flag because the card did not have it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xinrong.credit import scorecard


@pytest.mark.parametrize("share", [0.012, 0.03])
def test_rare_flag_is_on_the_card_and_costs_points(share: float) -> None:
    rng = np.random.default_rng(7)
    n = 6000
    flag = (rng.random(n) < share).astype(float)
    years = rng.gamma(2.0, 3.0, n)
    z = -2.6 + 2.2 * flag - 0.25 * np.log1p(years)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    X = pd.DataFrame({"dishonest": flag, "years_in_business": years})
    card = scorecard.fit(X, y, trends={"dishonest": "ascending", "years_in_business": "descending"})
    names = [f.name for f in card.features]
    assert "dishonest" in names
    f = card.features[names.index("dishonest")]
    flagged, clean = f.bin_index(np.array([1.0, 0.0]))
    assert f.points[flagged] < f.points[clean] - 5


def test_common_features_keep_the_usual_bin_size() -> None:
    x = np.linspace(0, 10, 1000)
    assert scorecard._bin_size(x, 0.02) == 0.02
    rare = np.zeros(1000)
    rare[:10] = 1.0
    assert scorecard._bin_size(rare, 0.02) == 0.02  # 30 rows of 1,000 exceed 2%: the usual size
    assert scorecard._bin_size(np.concatenate([rare] * 10), 0.02) == pytest.approx(0.003)
