"""Jienan engine: specs, runtime, persistence, rules and services. Never imports Flask or web/."""
