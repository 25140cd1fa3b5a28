"""xinyong (信用): a credit-information platform built for the rule of law.

The package is layered (see ARCHITECTURE.md): ``model`` and ``policy`` are the pure core, ``engines``
and ``store`` do the I/O, ``service`` joins them, ``cli`` and ``web`` are thin edges.
"""

__version__ = "0.1.0"
