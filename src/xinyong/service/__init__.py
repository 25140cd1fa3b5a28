"""Use cases joining the store, the policy core and the engines: what the CLI and the HTTP edge call."""
