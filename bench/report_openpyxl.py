"""openpyxl filling the same xlsx report template as Baton's filler.

    python report_openpyxl.py TEMPLATE.xlsx DATA.json OUT.xlsx

A straightforward openpyxl implementation of the same semantics: find the
cells holding ${...}; resolve dotted paths (a name applied to a list maps over
it, so ${sql1.rows.C0} is the list of every row's C0); a row with list values
is expanded downward with insert_rows, one row per item, the template row's
other cells, styles and height copied to every new row; ISO dates become
datetimes. Prints the elapsed time.
"""
import datetime
import json
import re
import sys
import time
from copy import copy

from openpyxl import load_workbook

PLACEHOLDER = re.compile(r"\$\{(\??)\s*([^}]*?)\s*\}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")


def resolve(data, path):
    def walk(value, parts):
        if not parts:
            return value
        if isinstance(value, list):
            return [walk(item, parts) for item in value]
        return walk(value[parts[0]], parts[1:])

    return walk(data, path.split("."))


def typed(value):
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def fill_sheet(ws, data):
    rows = {}
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "${" in cell.value:
                rows.setdefault(cell.row, []).append(cell)
    # Bottom-up, so inserting rows never moves a row still to be filled.
    for r in sorted(rows, reverse=True):
        values = {}
        n = 1
        for cell in rows[r]:
            whole = PLACEHOLDER.fullmatch(cell.value)
            if whole:
                value = resolve(data, whole.group(2))
            else:
                value = PLACEHOLDER.sub(lambda m: str(resolve(data, m.group(2))), cell.value)
            values[cell.column] = value
            if isinstance(value, list):
                n = max(n, len(value))
        template = [c for c in ws[r]]
        if n > 1:
            ws.insert_rows(r + 1, n - 1)
        height = ws.row_dimensions[r].height
        for i in range(n):
            target = r + i
            if i > 0 and height is not None:
                ws.row_dimensions[target].height = height
            for t in template:
                cell = ws.cell(row=target, column=t.column)
                if t.column in values:
                    value = values[t.column]
                    if isinstance(value, list):
                        value = value[i] if i < len(value) else None
                    cell.value = typed(value)
                elif i > 0:
                    cell.value = t.value
                if i > 0 and t.has_style:
                    cell._style = copy(t._style)


def main():
    template, data_path, out = sys.argv[1:4]
    started = time.perf_counter()
    with open(data_path) as f:
        data = json.load(f)
    wb = load_workbook(template)
    for ws in wb.worksheets:
        fill_sheet(ws, data)
    wb.save(out)
    print(f"openpyxl filled in {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    main()
