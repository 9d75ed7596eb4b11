"""Nova Corrente plant analytics pipeline: drops in, one versioned DuckDB warehouse file out."""

__version__ = "0.1.0"
