"""cluebench: the CLUE clinical-LLM benchmark (Dada et al., arXiv 2404.04067), reproducible and fast."""

__version__ = "0.1.0"
