#!/usr/bin/env python3
"""Reads Native files written by Sluice's encoder with chdb (ClickHouse 26.x in-process)
and compares every column type and value with what the Swift test expected.

Usage: chdb_native_check.py MANIFEST.json
The manifest is a list of cases:
  {"name": str, "file": path,
   "columns": [{"name": str, "type": str}],      # expected header types, in order
   "rows": [[value, ...], ...] or null,          # expected values per row (JSON form)
   "row_count": int,
   "sorted_by": [column, ...]}                   # optional: file order must equal ORDER BY
Prints one line per problem and exits 1 if there is any.
"""
import json
import math
import sys

import chdb

SETTINGS = ("output_format_json_quote_64bit_integers=0, output_format_json_quote_denormals=1, "
            "session_timezone='UTC', output_format_json_named_tuples_as_objects=1")


def query(sql):
    return str(chdb.query(sql, "JSONEachRow"))


def rows_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def same(expected, actual):
    if isinstance(expected, float) or (isinstance(actual, float) and isinstance(expected, (int, float))):
        if not isinstance(actual, (int, float)) or isinstance(actual, bool):
            return False
        return math.isclose(float(expected), float(actual), rel_tol=1e-7, abs_tol=0.0)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            same(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and all(
            same(expected[k], actual[k]) for k in expected)
    return expected == actual and type(expected) is type(actual)


def check(case):
    problems = []
    path = case["file"]
    described = rows_of(query(f"DESCRIBE TABLE file('{path}', Native)"))
    got_columns = [(d["name"], d["type"]) for d in described]
    want_columns = [(c["name"], c["type"]) for c in case["columns"]]
    if got_columns != want_columns:
        problems.append(f"columns: expected {want_columns}, chdb read {got_columns}")
        return problems
    names = [c["name"] for c in case["columns"]]
    select = ", ".join(f"`{n}`" for n in names)
    got = rows_of(query(f"SELECT {select} FROM file('{path}', Native) SETTINGS {SETTINGS}"))
    if len(got) != case["row_count"]:
        problems.append(f"rows: expected {case['row_count']}, chdb read {len(got)}")
    for i, (want, have) in enumerate(zip(case["rows"] or [], got)):
        for name, value in zip(names, want):
            if not same(value, have.get(name)):
                problems.append(f"row {i} column {name}: expected {value!r}, chdb read {have.get(name)!r}")
    key = case.get("sorted_by")
    if key:
        cols = ", ".join(f"`{k}`" for k in key)
        in_file = rows_of(query(f"SELECT {cols} FROM file('{path}', Native) SETTINGS {SETTINGS}"))
        by_clickhouse = rows_of(query(f"SELECT {cols} FROM file('{path}', Native) ORDER BY {cols} SETTINGS {SETTINGS}"))
        if in_file != by_clickhouse:
            first = next(i for i, (a, b) in enumerate(zip(in_file, by_clickhouse)) if a != b)
            problems.append(f"order: row {first} is {in_file[first]}, ClickHouse's ORDER BY puts {by_clickhouse[first]} there")
    return problems


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    failed = 0
    for case in cases:
        try:
            problems = check(case)
        except Exception as e:  # chdb parse errors are exactly what this test looks for
            problems = [f"chdb error: {e}"]
        for p in problems:
            print(f"{case['name']}: {p}")
        if problems:
            failed += 1
        else:
            print(f"{case['name']}: ok ({case['row_count']} rows)")
    print(f"chdb {chdb.chdb_version if hasattr(chdb, 'chdb_version') else ''}: {len(cases) - failed} cases ok, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
