"""Argyll package."""
