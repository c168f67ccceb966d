from app.features import mean, parse_row, scale, zscore


def test_scale():
    assert scale([1, 2], 2) == [2, 4]


def test_mean_of_known_values():
    assert mean([1, 2, 3, 4]) == 2.0


def test_zscore_constant_column():
    assert zscore([5.0, 5.0, 5.0]) == [0.0, 0.0, 0.0]


def test_parse_row():
    assert parse_row({"sepal_length": "5.1", "label": "setosa"})["label"] == "setosa"
