"""Write the manual page ``man/ct.1`` from ct's own argparse parser (argparse-manpage).

    .venv/bin/python man/generate.py man/ct.1        (make man)

``tests/test_journey.py`` regenerates it and compares, so the page stays
current with the commands; ENVIRONMENT, EXIT STATUS and the rotation guide
come from the same text as ``ct help environment|exit-codes|rotate``.
"""

from __future__ import annotations

import os
import sys


def render() -> str:
    os.environ["COLUMNS"] = "80"  # argparse wraps to the terminal: fix it for a reproducible page
    from argparse_manpage.manpage import Manpage

    from cerro_torre import __version__
    from cerro_torre.cli import info
    from cerro_torre.cli.main import build_parser

    page = Manpage(build_parser(), _data={
        "project_name": "cerro-torre", "version": __version__, "date": "2026-11-30",
        "manual_title": "Cerro Torre manual", "manual_section": "1",
        "description": "threshold-signed software releases, airgap-first"})
    for heading, text in (("ENVIRONMENT", info.topic_environment()),
                          ("EXIT STATUS", info.topic_exit_codes()),
                          ("LOST KEYHOLDER", info.topic_rotate())):
        page.add_section(heading, ">", _verbatim(text))
    page.add_section("SEE ALSO", ">", "ct help TOPIC (topics: " + ", ".join(sorted(_topics())) + "), "
                     "ct COMMAND --help, README.md and spec/ of the cerro-torre sources")
    return str(page)


def _topics() -> list[str]:
    from cerro_torre.cli.commands import TOPICS

    return list(TOPICS)


def _verbatim(text: str) -> str:
    """Preformatted roff: no filling, backslashes and leading dots escaped."""
    lines = []
    for line in text.rstrip("\n").splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return ".nf\n" + "\n".join(lines) + "\n.fi"


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "-"
    text = render()
    if out == "-":
        sys.stdout.write(text)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
