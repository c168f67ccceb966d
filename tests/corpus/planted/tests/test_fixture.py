def test_predict_uses_model(trained_model):
    assert trained_model.predict([[5.1, 3.5, 1.4, 0.2]]) == [0]


def test_ok():
    assert 1 + 1 == 2
