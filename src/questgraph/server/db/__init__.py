"""Shared persistence: the database handles, the one schema declaration and its migrations."""
