def test_tax_grades_agree_with_the_matrix_feature(transactional_db):
    """Eligibility's quick tax-grade lookup uses the same rule as the scored feature."""
    import numpy as np

    from xinrong.credit.features import TAX_GRADE_VALUE, feature_matrix, tax_grades
    from xinrong.web.tests.seeded import demo_world

    demo_world()
    matrix = feature_matrix()
    quick = tax_grades(entity_ids=matrix.index.tolist())
    letters = {v: g for g, v in TAX_GRADE_VALUE.items()}
    expected = {int(eid): letters[v] for eid, v in matrix["tax_grade"].items() if not np.isnan(v)}
    assert quick == expected and len(quick) > 100
