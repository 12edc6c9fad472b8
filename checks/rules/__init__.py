"""One module per rule, named after its id; see `checks.registry` for the contract."""
