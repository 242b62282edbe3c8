from inspectors import integrity
from tests.inspectors.tables import samples


def issues(found):
    return sorted(zip(found["path"], found["issue"], strict=True))


def test_each_kind_of_broken_entry_gets_its_issue():
    table = samples([
        {"path": "a.jpg", "format": "JPEG"},
        {"path": "b.jpg", "ok": False, "error": "OSError: image file is truncated", "format": "JPEG"},
        {"path": "c.png", "format": "JPEG"},
        {"path": "d.txt", "entry": "unsupported", "ok": False, "error": ".txt: not an image extension we read"},
        {"path": "e.png", "entry": "missing", "ok": False, "error": "FileNotFoundError: no such file"},
        {"path": "f.png", "orphan": True, "label": ""},
        {"path": "g.JPG", "format": "MPO"},
        {"path": "h.png", "ok": False, "error": "FileNotFoundError: [Errno 2] gone since the listing"},
    ])
    found = integrity.inspect(table)
    assert issues(found) == [("b.jpg", "corrupt"), ("c.png", "format_mismatch"), ("d.txt", "unsupported_file"),
                             ("e.png", "missing_file"), ("f.png", "orphan_file"), ("h.png", "missing_file")]
    detail = dict(zip(found["path"], found["detail"], strict=True))
    assert detail["b.jpg"] == "OSError: image file is truncated"
    assert detail["c.png"] == "named .png but the content is JPEG"
    assert (found["score"] == 1.0).all()


def test_summary_counts_kinds_of_corruption():
    table = samples([{"ok": False, "error": "OSError: truncated"}, {"ok": False, "error": "OSError: x"},
                     {"ok": False, "error": "TooLargeError: header declares"}])
    found = integrity.inspect(table)
    assert integrity.summarize(table, found) == {"corrupt_kinds": {"OSError": 2, "TooLargeError": 1}}
