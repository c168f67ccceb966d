import hashlib
import pickle
import subprocess

import yaml

DB_PASSWORD = "hunter2-prod"


def run(cmd):
    return subprocess.call(cmd, shell=True)


def load_config(text):
    return yaml.load(text)


def load_model(blob):
    return pickle.loads(blob)


def digest(data):
    return hashlib.md5(data).hexdigest()
