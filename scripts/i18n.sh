#!/usr/bin/env bash
# The message catalogues (gettext, with Babel). Source strings are the French of the code;
# proclient/locale/en/LC_MESSAGES/proclient.po translates them to English, and
# proclient/locale/fr/LC_MESSAGES/argparse.po puts Python's argparse into French.
# The compiled .mo files are committed (the package ships them; no build step).
#
#   bash scripts/i18n.sh update    # after changing UI text: extract, merge into the .po,
#                                  # list what is left to translate (then edit the .po…)
#   bash scripts/i18n.sh compile   # …and compile the .mo files
#   bash scripts/i18n.sh check     # tests/test_i18n.py: nothing untranslated, nothing stale
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
LOCALE=proclient/locale

case "${1-}" in
  update)
    pot="$(mktemp --suffix=.pot)"
    trap 'rm -f "$pot"' EXIT
    # Extraction rules: [tool.babel] in pyproject.toml (receipts' content stays French).
    "$PYBABEL" -q extract -F pyproject.toml --no-location --sort-output \
      --project=proclient -o "$pot" . 2>/dev/null
    "$PYBABEL" -q update -i "$pot" -d "$LOCALE" -D proclient -l en \
      --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
    .venv/bin/python - <<'PY'
from babel.messages.pofile import read_po

with open("proclient/locale/en/LC_MESSAGES/proclient.po", "rb") as file:
    catalog = read_po(file)
missing = [m.id for m in catalog if m.id and not (m.string[0] if m.pluralizable else m.string)]
for message in missing:
    print("untranslated:", message)
print(f"{len(missing)} message(s) to translate in proclient/locale/en/LC_MESSAGES/proclient.po")
PY
    ;;
  compile)
    "$PYBABEL" -q compile -d "$LOCALE" -D proclient -l en
    "$PYBABEL" -q compile -d "$LOCALE" -D argparse -l fr
    ;;
  check)
    .venv/bin/python -m pytest -q tests/test_i18n.py
    ;;
  *)
    echo "usage: bash scripts/i18n.sh update|compile|check" >&2
    exit 2
    ;;
esac
