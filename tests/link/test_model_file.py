"""A saved model keeps its probabilities to nine significant digits: the same data and seed
give the same file, though DuckDB's parallel sums differ in the last bits between runs."""

from __future__ import annotations

from linkage.link.model import rounded


def test_probabilities_are_rounded_and_nothing_else_changes() -> None:
    model = {
        "probability_two_random_records_match": 0.00012345678912345,
        "comparisons": [
            {
                "output_column_name": "name",
                "comparison_levels": [
                    {
                        "sql_condition": "name_l = name_r",
                        "m_probability": 0.9851186587209548,
                        "u_probability": 1.2345678901234e-08,
                        "tf_adjustment_weight": 0.123456789123,
                    },
                    {"is_null_level": True},
                ],
            }
        ],
    }
    again = rounded(model)
    assert again["probability_two_random_records_match"] == 0.000123456789
    level = again["comparisons"][0]["comparison_levels"][0]
    assert (level["m_probability"], level["u_probability"]) == (0.985118659, 1.23456789e-08)
    assert level["tf_adjustment_weight"] == 0.123456789123  # not a probability: untouched
    assert again["comparisons"][0]["comparison_levels"][1] == {"is_null_level": True}
    # two trainings that differ only in floating-point noise give the same file
    noisy = {**model, "probability_two_random_records_match": 0.00012345678912346}
    assert rounded(noisy) == again
