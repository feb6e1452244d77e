"""Local simulators of platform APIs that speak the exact wire format, for the demo and the tests."""
