"""The Flask web application: roles, record-in-context, search, requests, holds, audit (issue 7)."""
