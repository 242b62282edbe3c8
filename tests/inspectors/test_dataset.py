import os

import pytest

from inspectors.config import LoadConfig
from inspectors.dataset import DatasetError, is_manifest_header, load_dataset
from tests.conftest import encode, noise_image, write

PNG = encode(noise_image(16, 16), "PNG")


def make(root, *paths, data=PNG):
    for p in paths:
        write(root / p, data)
    return root


def rows(listing):
    return {r.path: (r.label, r.split, r.entry) for r in listing.samples.itertuples()}


def test_folder_per_class(tmp_path):
    make(tmp_path, "cat/a.jpg", "cat/b.PNG", "dog/c.jpeg")
    listing = load_dataset(tmp_path)
    assert listing.layout == "folders"
    assert rows(listing) == {"cat/a.jpg": ("cat", "", "image"), "cat/b.PNG": ("cat", "", "image"),
                             "dog/c.jpeg": ("dog", "", "image")}


def test_split_folders_and_their_aliases(tmp_path):
    make(tmp_path, "train/cat/a.png", "valid/cat/b.png", "validation/dog/c.png", "dev/dog/d.png",
         "Test/cat/e.png")
    got = {p: (lab, split) for p, (lab, split, _) in rows(load_dataset(tmp_path)).items()}
    assert got == {"train/cat/a.png": ("cat", "train"), "valid/cat/b.png": ("cat", "val"),
                   "validation/dog/c.png": ("dog", "val"), "dev/dog/d.png": ("dog", "val"),
                   "Test/cat/e.png": ("cat", "test")}


def test_nested_folders_take_the_class_folder_label(tmp_path):
    make(tmp_path, "train/cat/2020/jan/a.png")
    assert rows(load_dataset(tmp_path)) == {"train/cat/2020/jan/a.png": ("cat", "train", "image")}


def test_hidden_files_and_folders_are_skipped(tmp_path):
    make(tmp_path, "cat/a.png", "cat/.b.png", ".git/x.png", "cat/.thumbs/c.png")
    assert list(rows(load_dataset(tmp_path))) == ["cat/a.png"]


def test_other_files_in_class_folders_are_unsupported_rows(tmp_path):
    make(tmp_path, "cat/a.png", "cat/README.txt", "cat/photo.heic", "cat/photo.avif", "notes.md")
    os.mkdir(tmp_path / "cat" / "x.jpg")
    os.mkfifo(tmp_path / "cat" / "pipe.jpg")
    listing = load_dataset(tmp_path)
    got = {r.path: r.error for r in listing.samples.itertuples() if r.entry == "unsupported"}
    assert set(got) == {"cat/README.txt", "cat/photo.heic", "cat/photo.avif", "cat/x.jpg", "cat/pipe.jpg"}
    assert "not an image extension" in got["cat/photo.heic"]
    assert got["cat/x.jpg"] == "a folder named like an image file"
    assert got["cat/pipe.jpg"] == "not a regular file (FIFO)"
    assert "notes.md" not in rows(listing)  # files at the dataset root are not class members


def test_symlinks_are_followed_without_loops(tmp_path):
    make(tmp_path, "real/cat/a.png")
    os.symlink(tmp_path / "real" / "cat", tmp_path / "real" / "cat" / "again")  # a cycle
    os.symlink(tmp_path / "real" / "cat" / "a.png", tmp_path / "real" / "cat" / "link.png")
    os.symlink(tmp_path / "nowhere.png", tmp_path / "real" / "cat" / "dangling.png")
    listing = load_dataset(tmp_path / "real")
    got = rows(listing)
    assert got["cat/a.png"][2] == "image" and got["cat/link.png"][2] == "image"  # recorded at its own path
    assert got["cat/dangling.png"][2] == "unsupported"
    assert not any("again" in p for p in got)
    assert any("already listed" in w for w in listing.warnings)


def test_unicode_and_invalid_utf8_names(tmp_path):
    make(tmp_path, "ñandú/ünï 🐱.png")
    bad = os.path.join(os.fsencode(tmp_path), b"cat", b"bad\xff\xfename.png")
    os.makedirs(os.path.dirname(bad))
    with open(bad, "wb") as f:
        f.write(PNG)
    got = rows(load_dataset(tmp_path))
    assert got["ñandú/ünï 🐱.png"] == ("ñandú", "", "image")
    assert got["cat/bad\\xff\\xfename.png"] == ("cat", "", "image")


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no files to scan"):
        load_dataset(tmp_path)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_dataset(tmp_path / "nope")


def manifest(tmp_path, text, name="labels.csv"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def test_csv_manifest_with_missing_and_orphan_files(tmp_path):
    make(tmp_path, "images/a.png", "images/b.png", "images/orphan.png")
    csv_path = manifest(tmp_path, "path,label,split\nimages/a.png,cat,train\n./images/b.png,dog,valid\n"
                                  "images/gone.png,dog,test\n")
    listing = load_dataset(csv_path)
    assert listing.layout == "csv" and listing.root == tmp_path
    s = listing.samples.set_index("path")
    assert (s.loc["images/b.png", "label"], s.loc["images/b.png", "split"]) == ("dog", "val")
    assert s.loc["images/gone.png", "entry"] == "missing"
    assert bool(s.loc["images/orphan.png", "orphan"]) and s.loc["images/orphan.png", "label"] == ""
    assert not s.loc["images/a.png", "orphan"]


def test_csv_is_found_in_a_folder_and_by_labels_flag(tmp_path):
    make(tmp_path, "images/a.png")
    manifest(tmp_path, "path,label\nimages/a.png,cat\n")
    assert load_dataset(tmp_path).layout == "csv"
    elsewhere = tmp_path / "meta"
    elsewhere.mkdir()
    m = manifest(elsewhere, f"path,label\n{tmp_path / 'images' / 'a.png'},cat\n")
    listing = load_dataset(tmp_path, labels=m)
    assert list(listing.samples["path"]) == ["images/a.png"]  # absolute inside the root -> relative


def test_csv_paths_outside_the_root_stay_absolute(tmp_path):
    outside = make(tmp_path / "other", "x.png") / "x.png"
    make(tmp_path / "root", "images/a.png")
    m = manifest(tmp_path / "root", f"path,label\nimages/a.png,cat\n{outside},dog\n")
    paths = list(load_dataset(m).samples["path"])
    assert str(outside) in paths and "images/a.png" in paths


def test_csv_header_is_required_and_columns_configurable(tmp_path):
    make(tmp_path, "a.png")
    m = manifest(tmp_path, "a.png,cat\n")
    with pytest.raises(DatasetError, match="header"):
        load_dataset(m)
    m = manifest(tmp_path, "file,class\na.png,cat\n")
    listing = load_dataset(m, config=LoadConfig(path_column="file", label_column="class"))
    assert rows(listing) == {"a.png": ("cat", "", "image")}


def test_csv_edge_rows_are_reported_not_fatal(tmp_path):
    make(tmp_path, "a.png", "notes.txt")
    os.mkdir(tmp_path / "d.jpg")
    m = manifest(tmp_path, 'path,label\n"",cat\na.png,cat\na.png,dog\nnotes.txt,cat\nd.jpg,cat\n"we,ird.png",cat\n')
    listing = load_dataset(m)
    got = rows(listing)
    assert got["a.png"] == ("cat", "", "image")  # the first of two rows wins
    assert got["notes.txt"][2] == "unsupported" and got["d.jpg"][2] == "unsupported"
    assert got["we,ird.png"][2] == "missing"
    assert any("line 2: empty path" in w for w in listing.warnings)
    assert any("repeats line 3" in w and "'dog' vs 'cat'" in w for w in listing.warnings)


def test_unreadable_csv_is_a_clear_error(tmp_path):
    m = tmp_path / "labels.csv"
    m.write_bytes(b"path,label\n\xff\xfe,\x00cat\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset(m)


def test_a_manifest_is_the_csv_whose_first_line_names_the_path_and_label_columns(tmp_path):
    config = LoadConfig()
    assert is_manifest_header(b'\xef\xbb\xbf"path",label,split\r\nimages/a.png,cat,train\r\n', config)  # BOM, CRLF
    assert not is_manifest_header(b"file,class\npath,label\n", config)  # only the first line counts
    assert not is_manifest_header(b"path,lab\xe9l\n", config)  # not UTF-8: not ours
    assert is_manifest_header(b"file,class\n", LoadConfig(path_column="file", label_column="class"))
    make(tmp_path, "images/a.png")
    (tmp_path / "notes.csv").write_text("when,what\n2026,started\n")
    (tmp_path / "labels.csv").write_bytes(b"\xef\xbb\xbfpath,label\r\nimages/a.png,cat\r\n")
    listing = load_dataset(tmp_path)
    assert listing.layout == "csv" and listing.samples["label"].tolist() == ["cat"]


def test_layout_can_be_forced(tmp_path):
    make(tmp_path, "images/a.png")
    manifest(tmp_path, "path,label\nimages/a.png,cat\n")
    assert load_dataset(tmp_path, config=LoadConfig(layout="folders")).layout == "folders"
    with pytest.raises(DatasetError, match="--layout csv needs a manifest"):
        load_dataset(tmp_path / "images", config=LoadConfig(layout="csv"))


def test_a_manifest_outside_the_dataset_may_name_paths_relative_to_the_dataset(tmp_path):
    make(tmp_path / "data", "cat/a.png", "dog/b.png")
    elsewhere = tmp_path / "workspace"
    elsewhere.mkdir()
    m = manifest(elsewhere, "path,label,split\n./cat/a.png,dog,train\n./dog/gone.png,dog,val\n")
    listing = load_dataset(tmp_path / "data", labels=m)
    got = rows(listing)
    assert got["cat/a.png"] == ("dog", "train", "image")  # relabelled by the manifest
    assert got["dog/b.png"][2] == "image" and listing.samples.set_index("path").loc["dog/b.png", "orphan"]
    assert any(p.endswith("dog/gone.png") and v[2] == "missing" for p, v in got.items())
