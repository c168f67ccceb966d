from app.features import normalise_columns


def test_normalise():
    assert normalise_columns(["A "]) == ["a"]
