"""Schemas, validation and vectorised readers for the four Tenrec raw files."""
