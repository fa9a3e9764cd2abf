"""Argyll: a goal-driven orchestration engine and its Python SDK."""

__version__ = "0.1.0"
