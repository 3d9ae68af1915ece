"""The hotline with one page more, ``/hold/``, that keeps its server thread until the test
lets go: for showing that the telephony pool answers while every thread of the pool for
people is taken (lib/tests/test_serve.py). Served as ``DJANGO_SETTINGS_MODULE=
tuidang.testing.held.settings``, with ``HOLD_DIR`` naming the folder where each held
request leaves a file and where a file ``release`` lets them all go."""
