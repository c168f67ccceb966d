import unittest

from app.features import mean


class MeanTest(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(mean([]), 0.0)

    def test_values(self):
        self.assertEqual(mean([2, 4]), 3)
