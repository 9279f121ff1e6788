"""The ``retirement`` command line: rules calculators now, operations tools as they arrive."""
