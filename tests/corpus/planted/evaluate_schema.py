"""Planted defect: the evaluation set has a renamed column."""
import pandas as pd

expected = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
frame = pd.DataFrame({"sepal_length": [5.1], "sepal_width": [3.5], "petal_len": [1.4], "petal_width": [0.2]})
print("checking evaluation data schema against the training reference")
missing = sorted(set(expected) - set(frame.columns))
if missing:
    raise KeyError("evaluation data is missing columns %s (found %s)" % (missing, list(frame.columns)))
