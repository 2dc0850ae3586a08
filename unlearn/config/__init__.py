"""What a run may be asked to do, checked before anything starts.

Belongs here: the structured config schema and each key's declared range (``schema.py``,
``fields.py``), value checks across keys (``checks.py``), ``ConfigError`` (``errors.py``),
the ``debug=fast`` overlay, the ``--help`` preset list and where the YAML folders live.
A new check goes beside its field in ``schema.py`` or, when it spans keys, in ``checks.py``.
Lowest layer: imports nothing from the rest of ``unlearn`` (no torch).
"""
