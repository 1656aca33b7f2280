"""National-scale benchmarks (issue #8): generated months in the five dialects, each stage in its own process.

``data`` generates and caches two months of files; ``stage`` is the child process that runs one stage under
a ready/go/done handshake; ``proc`` starts children and reads their peak RSS; ``results`` writes
``benchmarks/results/national.json`` and ``national.png``; ``streaming`` is the 50M-line streaming run.
Children are started as ``python -m national.<module>`` with ``benchmarks/`` on ``PYTHONPATH``.
"""
