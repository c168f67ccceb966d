import pytest

from app.features import scale


@pytest.mark.parametrize(("values", "factor", "expected"), [([1], 2, [2]), ([1.5], 2, [3.0]), ([0.1], 3, [0.3])])
def test_scale(values, factor, expected):
    assert scale(values, factor) == expected
