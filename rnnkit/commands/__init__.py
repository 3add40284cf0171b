"""The ``rnnkit`` commands that are programs of their own (``train``, ``explain``): they
build and train models, so they sit at the top, beside ``rnnkit.cli``, which dispatches."""
