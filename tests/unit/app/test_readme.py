"""The README's configuration table cannot fall behind chalicelib/settings.py."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_environment_variable_the_service_reads_is_in_the_readme():
    settings = (ROOT / "chalicelib" / "settings.py").read_text()
    names = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', settings))
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document: {', '.join(missing)}"
