import pytest


@pytest.fixture(autouse=True)
def _english(client):
    """Pages in English, so tests can read their messages (the UI is Chinese by default)."""
    client.cookies["django_language"] = "en"
