"""The local stand-ins and service launchers that ``make demo``, ``bench/`` and the tests share."""
