"""Run the offline package verifier: ``python -m export.verify_package PACKAGE.zip [--keys FILE]``."""

from export.verify_package.cli import main

raise SystemExit(main())
