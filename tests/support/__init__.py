"""Helpers behind the fixtures in tests/conftest.py: databases, live server, browser, mail."""
