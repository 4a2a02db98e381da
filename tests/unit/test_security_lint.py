"""Security lint in `make test`: bandit finds nothing above low severity in the service's code
that is not justified inline (``# nosec B<id> - why``, or ``# Why nosec B<id>: ...`` above it in the
same block of lines, which covers the block)."""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app.py", "chalicelib", "functions", "devstack", "tools", "container", "scripts", "bench")
NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
JUSTIFIED_INLINE = re.compile(r"^\s+(?P<ids>B\d{3}(?:\s*,\s*B\d{3})*)\s+-\s+\S")
JUSTIFIED_ABOVE = re.compile(r"#\s*Why nosec (?P<ids>B\d{3}(?:\s*,\s*B\d{3})*)\b.*:\s*\S")


def python_files():
    for source in SOURCES:
        path = ROOT / source
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_bandit_finds_nothing_above_low_severity():
    result = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", *SOURCES, "--severity-level", "medium",
                             "-f", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout)
    findings = [f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_text']}"
                for item in report["results"]]
    assert findings == [] and report["errors"] == [], findings or report["errors"]


def test_every_nosec_names_the_check_it_silences_and_says_why():
    unjustified = []
    for path in python_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = NOSEC.search(line)
            if not match or JUSTIFIED_ABOVE.search(line):
                continue
            ids_here = re.findall(r"B\d{3}", match.group("rest"))
            start = number
            while start > 0 and lines[start - 1].strip():  # the block: up to the previous blank line
                start -= 1
            above = [JUSTIFIED_ABOVE.search(previous) for previous in lines[start:number]]
            ids_above = {found for justification in above if justification
                         for found in re.findall(r"B\d{3}", justification.group("ids"))}
            if not ids_here or not (JUSTIFIED_INLINE.match(match.group("rest")) or set(ids_here) <= ids_above):
                unjustified.append(f"{path.relative_to(ROOT)}:{number + 1}: {line.strip()}")
    assert unjustified == []
