"""Operator tools run from the Makefile (backup and restore, the services check)."""
