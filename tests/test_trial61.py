"""Defects found by the user trials of stop 61 (reports in the session's trial folder) and gaps earlier stops left,
each with the behaviour that mends it."""

from __future__ import annotations


# ------------------------------------------------------------------------------------------------------------------
# ltr data verify
def test_an_unjudged_row_cut_short_inside_its_line_is_found_in_a_semi_set(tmp_path, shared_file):
    """mq2008-semi reads with unjudged='drop', so a row labelled -1 cut before feature 21 was dropped before the scan
    for rows lacking features, and the copy was 'ok' (review 2 of stop 60): most rows of a -semi training file are
    unjudged, and the -semi entries document no checksum."""
    import gzip

    from ltr.registry import verify

    text = gzip.open(shared_file("mq2008/Fold2/test.txt.gz"), "rb").read()
    start = text.rstrip(b"\n").rfind(b"\n") + 1
    last = b"-1" + text[start:][text[start:].find(b" "):]
    for name, body in (("a", text[:start] + last), ("b", text[:start] + last[:last.find(b" 21:")])):
        (tmp_path / name / "Fold2").mkdir(parents=True)
        (tmp_path / name / "Fold2" / "test.txt").write_bytes(body)
    ok = next(f for f in verify("mq2008-semi", tmp_path / "a").files if f.path == "Fold2/test.txt")
    assert ok.status == "ok" and not ok.problems and ok.checked == ["labels 0..2"]  # (the -1 row set aside)
    assert ok.rows == text.count(b"\n") - 1
    cut = next(f for f in verify("mq2008-semi", tmp_path / "b").files if f.path == "Fold2/test.txt")
    assert cut.status == "differs" and cut.problems == [
        "1 row(s) lack features, where every row of mq2008-semi lists all 46 (the first: row 2933 (label -1), query "
        "11893, lacks 26): a copy cut short inside a line?"]
