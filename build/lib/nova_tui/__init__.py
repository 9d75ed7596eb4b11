"""nova_tui: the operators' terminal dashboard. Reads the published warehouse file, read-only."""
__version__ = "0.1.0"
