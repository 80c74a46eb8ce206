"""Confidential case notes and flags."""
