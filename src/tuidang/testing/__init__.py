"""Helpers for the test suite, importable from any app's tests.

- ``tuidang.testing.personas``: the people, the hotline's numbers, the caller, passwords and
  second factors, the simulated network's clock, and volunteers made through the real models
  and services.
- ``tuidang.testing.records``: a call with everything the hotline seals (``record_a_call``).
- ``tuidang.testing.logins``: logging in through the login form (``log_in``).
- ``tuidang.testing.publication``: the worker's publication, now (``publish``): what is
  recorded is public only once its batch is.
- ``tuidang.testing.browser``: Debian's Chromium for the browser tests, and what they do
  in it: log in, ring the hotline, answer on the desk.
- ``tuidang.testing.ports``: a port for a server a test starts, from a block of the
  worker's own (``free_port``).

``tuidang.conftest`` turns these into fixtures; a test imports what it uses from here.
Nothing here runs at import time beyond importing the models it needs.
"""
