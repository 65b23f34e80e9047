#!/usr/bin/python3
"""Parse a reStructuredText file with docutils; print its warnings and
exit 1 if there are any.  Of Sphinx's own directives, the files the series
touches use only toctree, which is accepted here without being checked."""
import io
import sys

import docutils.core
from docutils.parsers.rst import Directive, directives


class TocTree(Directive):
    has_content = True
    option_spec = {"maxdepth": directives.unchanged}

    def run(self):
        return []


directives.register_directive("toctree", TocTree)

errors = io.StringIO()
with open(sys.argv[1], encoding="utf-8") as f:
    docutils.core.publish_string(f.read(), source_path=sys.argv[1],
                                 writer_name="null",
                                 settings_overrides={"warning_stream": errors,
                                                     "report_level": 2,
                                                     "halt_level": 5})
print(errors.getvalue(), end="")
sys.exit(1 if errors.getvalue() else 0)
