"""RepairFlow's load and performance harness (issue 8): `python -m bench storm`.

Not part of the test run; see bench/README.md."""
