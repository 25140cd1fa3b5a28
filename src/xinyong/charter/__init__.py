"""Data: the charter bases a catalogue and a policy must map onto, and the official working-day calendars.

Nothing here is code. The YAML files are read with :mod:`importlib.resources` by
``xinyong.policy.charter_bases`` and ``xinyong.policy.calendar``, so they ship in the wheel with the
package and a policy is linted against the same bases wherever it runs. ``bases.digest.json`` is derived
from the four base files (``python -m xinyong.policy.charter_bases`` rewrites it after an edit; a test
checks it is current); it is used only while the files hash to it.
"""
