"""Utilities: dot test."""
