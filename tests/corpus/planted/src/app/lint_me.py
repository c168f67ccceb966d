import os, sys
import json


def load(path):
    data = json.load(open(path))
    l = len(data)
    if data == None:
        return undefined_name
    return l
def unused():
    x = 1
