import requests
from flask import Flask

app = Flask(__name__)


def fetch_features(url):
    return requests.get(url, verify=False).json()


def evaluate(expr):
    return eval(expr)


if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
