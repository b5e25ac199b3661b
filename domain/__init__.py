"""The domain: frame events, derived records, settings. Imports nothing else of chargestream."""
