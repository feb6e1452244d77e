"""Court production packages: e-discovery load files for review platforms."""
