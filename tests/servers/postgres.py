"""PostgreSQL test server fixture (see module docstring when filled)."""
