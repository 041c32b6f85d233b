from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data (`manage.py seed_demo`): it builds on every app, so it sits above them all."""

    name = "liaison.demo"
    label = "demo"
