"""Test helpers shipped with the package (a fault-injecting OpenAI-compatible stub server)."""
