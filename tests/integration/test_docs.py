"""
test_docs.py -- documents that must not drift from the code.

docs/options.md carries the option table exactly as the server prints it
(`caller-echo --help-markdown`, made from src/config.cpp's one list of
options): `make docs` rewrites it; this test fails when they differ. The
README and SECURITY.md must name no option the server does not have.
"""
import os
import re
import subprocess
import unittest

from harness import BIN, REPO


def read(name):
    with open(os.path.join(REPO, name)) as f:
        return f.read()


class Docs(unittest.TestCase):

    def test_options_table_is_the_binarys(self):
        table = subprocess.run([BIN, "--help-markdown"], stdout=subprocess.PIPE, check=True,
                               timeout=10).stdout.decode()
        doc = read("docs/options.md")
        m = re.search(r"<!-- options:begin -->\n(.*)<!-- options:end -->", doc, re.S)
        self.assertIsNotNone(m, "docs/options.md has no options markers")
        self.assertEqual(m.group(1), table, "docs/options.md is stale: run make docs")

    def test_docs_name_only_real_options(self):
        """A flag mentioned anywhere in the docs exists (a rename leaves no stale name)."""
        help_text = subprocess.run([BIN, "--help"], stdout=subprocess.PIPE, check=True, timeout=10).stdout.decode()
        flags = set(re.findall(r"^  (--[a-z0-9-]+)", help_text, re.M))
        self.assertGreater(len(flags), 30)
        for name in ("README.md", "SECURITY.md", "docs/options.md", "docs/behaviour.md", "docs/deploy.md"):
            text = read(name)
            for flag in set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text)):
                if flag in ("--help-markdown",) or flag in flags:
                    continue
                with self.subTest(doc=name, flag=flag):
                    # other programs' flags (curl, caller-sim, make...) are quoted with them
                    self.assertRegex(text, r"(curl|caller-sim|make|slowhttptest|git|ssh|openssl|valgrind|unshare|sysctl|"
                                     r"chromium|systemctl|fail2ban|promtool|testssl|python|node|npm|perf|"
                                     r"websocat|dpkg|apt)[^\n]*" + re.escape(flag),
                                     "%s names %s, which caller-echo --help does not list" % (name, flag))
