"""After-care and supervision findings: known answers on a hand-built store (tests/programme_fixtures.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from analytics import aftercare
from analytics.errors import InputError
from tests.programme_fixtures import AS_OF, build_aftercare


@pytest.fixture
def store_(mem_con):
    build_aftercare(mem_con)
    return mem_con


def test_completed_compounds_with_their_aftercare(store_):
    got = aftercare.completed_compounds(store_, as_of=AS_OF)
    assert list(got.columns) == aftercare.COMPOUND_COLUMNS
    assert got["compound_id"].tolist() == ["A1", "B1", "Z1"]  # 任城区, 兖州区, then the zone
    assert got["established"].tolist() == [True, False, False]  # Z1's is dated after AS_OF
    assert got["has_record"].tolist() == [True, False, True]
    assert got["completed_on"].dt.date.tolist() == [date(2020, 11, 27), date(2021, 10, 1), date(2021, 6, 4)]
    assert got.set_index("compound_id").loc["Z1", "satisfaction_pct"] == 80.0


def test_summary_share_modes_and_satisfaction(store_):
    got = aftercare.aftercare_summary(store_, as_of=AS_OF).set_index("unit_code")
    assert list(got.index) == ["370811", "370812", "Z01", "370800"]
    city = got.loc["370800"]
    assert city[["completed", "with_record", "established", "surveyed"]].tolist() == [3, 2, 1, 2]
    assert city["established_share"] == pytest.approx(1 / 3)
    assert city[aftercare.MODE_COLUMNS].tolist() == [1, 1, 0, 0, 1]  # professional, community, -, -, missing
    assert city["satisfaction_pct"] == pytest.approx((90 * 100 + 80 * 50) / 150)  # weighted by households
    assert got.loc["370812", "established_share"] == 0 and np.isnan(got.loc["370812", "satisfaction_pct"])
    assert got.loc["370811", "established_share"] == 1.0  # A2 is established but not completed: left out


def test_an_earlier_date_sees_less(store_):
    got = aftercare.aftercare_summary(store_, as_of=date(2020, 12, 31)).set_index("unit_code")
    assert list(got.index) == ["370811", "370800"]  # only A1 is completed
    assert got.loc["370811", "established"] == 0  # established in March 2021
    assert np.isnan(got.loc["370811", "satisfaction_pct"])  # surveyed in March 2021


def test_open_findings_overdue_flagged(store_):
    got = aftercare.open_findings(store_, as_of=AS_OF)
    assert list(got.columns) == aftercare.FINDING_COLUMNS
    assert got["id"].tolist() == ["F1", "F4", "F2", "F6"]
    assert got["days_overdue"].tolist()[:3] == [29, 15, -10] and np.isnan(got["days_overdue"].iloc[3])
    assert got["overdue"].tolist() == [True, True, False, False]


def test_findings_summary(store_):
    got = aftercare.findings_summary(store_, as_of=AS_OF).set_index("unit_code")
    assert list(got.index) == ["370811", "370812", "Z01", "370800"]
    assert got.loc["370811"].tolist() == [3, 3, 2, 0]
    assert got.loc["Z01"].tolist() == [1, 0, 0, 1]
    assert got.loc["370800"].tolist() == [5, 4, 2, 1]


def test_empty_store(mem_con):
    assert aftercare.aftercare_summary(mem_con, as_of=AS_OF).empty
    assert aftercare.open_findings(mem_con, as_of=AS_OF).empty
    assert aftercare.findings_summary(mem_con, as_of=AS_OF).empty


def test_bad_arguments(store_):
    with pytest.raises(InputError, match="`as_of`"):
        aftercare.aftercare_summary(store_, as_of="2022")
    with pytest.raises(InputError, match="`con`"):
        aftercare.open_findings(None, as_of=AS_OF)
