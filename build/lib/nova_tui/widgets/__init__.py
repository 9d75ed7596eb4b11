"""Reusable parts of the dashboard's screens."""
