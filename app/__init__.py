"""The composition root: the CLI, and the one place that wires the rooms and picks back ends."""
