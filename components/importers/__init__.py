"""Converters from public interaction logs to Tenrec-schema raw files (`tenrec import`)."""
