"""Fault injection: each test breaks something real on purpose (needs root)."""
