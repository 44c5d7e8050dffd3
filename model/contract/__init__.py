"""The Driver-Verifier-like contract checker: rules, violations, races."""
