# py_outcomes.py - the per-test outcomes of a CPython regression test run,
# read from the JUnit XML that `python3 -m test --junit-xml FILE` writes:
# one line "OUTCOME TEST-ID" per test case, sorted, OUTCOME one of passed,
# failed, error, skipped, xfail (expected failure), xpass (unexpected
# success), or unfinished (the worker died inside the test).  With --why, the message of every test that did
# not pass or skip follows its line (indented), for a failure report.
#
# Usage: python3 py_outcomes.py [--why] FILE.xml
import sys
import xml.etree.ElementTree as ET


def outcome(case):
    if case.get("name") is None:
        return "unfinished", None
    for kind, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped"),
                       ("output", "xfail"), ("outcome", "xpass")):
        if case.find(kind) is not None:
            return name, case.find(kind)
    return "passed", None


def main(argv):
    why = argv[:1] == ["--why"]
    path = argv[-1]
    root = ET.parse(path).getroot()
    lines = []
    for case in root.iter("testcase"):
        name, detail = outcome(case)
        text = ""
        if why and name in ("failed", "error") and detail is not None:
            body = (detail.get("message") or "") + "\n" + (detail.text or "")
            text = "".join("    " + l + "\n" for l in body.strip().splitlines()[-15:])
        lines.append((case.get("name") or "?", name, text))
    for test_id, name, text in sorted(lines):
        sys.stdout.write("%s %s\n%s" % (name, test_id, text))


if __name__ == "__main__":
    main(sys.argv[1:])
