"""CLI command groups: each module has ``register(app)``; cli.py finds them all."""
