"""Storage: the ``Store`` contract and its back ends (SQLite embedded, Cassandra for the stack)."""
