"""Use cases: the one place for every rule (authorization, transactions, admission, commands)."""
