"""Simulated platforms and a local Bot API, for `--demo` and the test suite.

Everything here serves real HTTP on 127.0.0.1 only and speaks the protocols of
CONTRACT section 3 exactly (signatures, timestamps, tiers, quotas), so the bot's
clients cannot tell it from the real thing except by its address. Nothing here is
used by `python -m bot` without `--demo`.
"""
