"""The action catalog: one module per action code, each a small ActionSpec."""
