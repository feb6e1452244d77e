"""The schedule sets shipped with Arsip; the TOML files are the content, this file makes setuptools ship them."""
