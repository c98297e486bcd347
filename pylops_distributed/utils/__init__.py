"""Utilities: the dot test."""

from pylops_distributed.utils.dottest import dottest

__all__ = ["dottest"]
