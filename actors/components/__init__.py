"""Modules that register the platform's components with ``@component``.

Import order does not matter: each factory declares its start order.
"""
