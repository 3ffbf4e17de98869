#!/usr/bin/env python3
"""Runs the SQL Sluice's query side-port generates for modern servers on chdb-core
(ClickHouse 26.x, in-process) and reports every result.

Usage: chdb_query_check.py MANIFEST.json OUTPUT.json
The manifest is {"setup": [sql, ...], "queries": [{"name": str, "sql": str}, ...]}.
Setup statements (the modern schema from SchemaPlanner, then INSERTs) must all succeed.
The output maps each query name to {"ok": bool, "rows": TSV text, "error": str}.
Exits 1 if a setup statement fails.
"""
import json
import sys

from chdb import session


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    s = session.Session()
    s.query("SET session_timezone = 'UTC'")
    for sql in manifest["setup"]:
        try:
            s.query(sql)
        except Exception as e:  # noqa: BLE001 - report the statement and stop
            print(f"setup failed: {e}\n  statement: {sql[:500]}")
            return 1
    out = {}
    for q in manifest["queries"]:
        try:
            rows = str(s.query(q["sql"], "TabSeparated"))
            out[q["name"]] = {"ok": True, "rows": rows, "error": ""}
        except Exception as e:  # noqa: BLE001 - every failure is reported to the Swift test
            out[q["name"]] = {"ok": False, "rows": "", "error": str(e)[:2000]}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
