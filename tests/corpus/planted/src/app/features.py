import math


def scale(values, factor):
    return [v * factor for v in values]


def mean(values):
    return sum(values) / len(values)


def zscore(values):
    m = mean(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / len(values))
    return [(v - m) / sd for v in values]


def parse_row(row):
    return {"sepal_length": float(row["sepal_length"]), "label": row["species"]}
