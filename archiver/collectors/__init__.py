"""Collectors (live platform APIs) and importers (platform data exports), one module per platform."""
