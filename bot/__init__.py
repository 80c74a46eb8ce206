"""Balint bot: coordinates Balint groups on Discord."""

__version__ = "0.1.0"
