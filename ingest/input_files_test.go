package ingest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEventFilesOrdersByWholePathAndSkipsHidden: a folder's files load in
// the order of their whole paths, which is time order for Firehose's
// YYYY/MM/DD/HH prefixes, and hidden files and folders are left out.
func TestEventFilesOrdersByWholePathAndSkipsHidden(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"2026/10/01/09/b.gz": "", "2026/10/01/10/a.gz": "", "2026/10/01-notes.txt": "",
		"2026/10/02/00/a.gz": "", ".git/config": "", "2026/.DS_Store": "", "2026/10/.tmp/x.gz": "",
	})
	got, err := EventFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range got {
		r, _ := filepath.Rel(root, p)
		rel = append(rel, filepath.ToSlash(r))
	}
	want := []string{"2026/10/01-notes.txt", "2026/10/01/09/b.gz", "2026/10/01/10/a.gz", "2026/10/02/00/a.gz"}
	if !slices.Equal(rel, want) {
		t.Errorf("files %v, want %v", rel, want)
	}
	one := filepath.Join(root, ".git", "config")
	if got, err := EventFiles(one); err != nil || !slices.Equal(got, []string{one}) {
		t.Errorf("a file named on its own, hidden or not: %v %v", got, err)
	}
	if _, err := EventFiles(filepath.Join(root, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing path: %v", err)
	}
}

// TestLoadEventFileRemembersFiles: a file is loaded once; one whose bytes
// changed is loaded again; force reads one already loaded.
func TestLoadEventFileRemembersFiles(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.ndjson")
	writeTree(t, filepath.Dir(path), map[string]string{"a.ndjson": webhookMsg + "\n"})
	loadFile := func(force bool) FileLoad {
		t.Helper()
		l, err := s.LoadEventFile(ctx, path, force)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := loadFile(false); l.AlreadyLoaded || l.Loaded != 1 {
		t.Fatalf("first load: %+v", l)
	}
	if l := loadFile(false); !l.AlreadyLoaded || l.Events != 0 {
		t.Fatalf("second load: %+v", l)
	}
	if l := loadFile(true); l.AlreadyLoaded || l.Events != 1 || l.Duplicates != 1 {
		t.Fatalf("forced load: %+v", l)
	}
	// Same size, other bytes: the hash tells.
	same := []byte(webhookMsg + "\n")
	same[len(same)-4] = '7' // RetryCount 7: a retry, yet other bytes
	if err := os.WriteFile(path, same, 0o644); err != nil {
		t.Fatal(err)
	}
	if l := loadFile(false); l.AlreadyLoaded || l.Events != 1 || l.Duplicates != 1 {
		t.Fatalf("after an edit of the same size: %+v", l)
	}
	// Grown: the old events are duplicates, the new one loads.
	if err := os.WriteFile(path, append(same, cloudEvent+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if l := loadFile(false); l.AlreadyLoaded || l.Loaded != 1 || l.Duplicates != 1 {
		t.Fatalf("after the file grew: %+v", l)
	}
	abs, _ := filepath.Abs(path)
	info, _ := os.Stat(path)
	if n := count(t, s, `SELECT count(*) FROM input_files WHERE path = ? AND size = ? AND events = 2 AND loaded = 1`, abs, info.Size()); n != 1 {
		t.Errorf("input_files does not hold the last load of %s", abs)
	}
}

// TestLoadEventFileRemembersOnlyStoredFiles: a load cut short (here, by
// a cancelled context) leaves no record, so the next run loads the file.
func TestLoadEventFileRemembersOnlyStoredFiles(t *testing.T) {
	s := openTestStore(t)
	path := filepath.Join(t.TempDir(), "a.ndjson")
	writeTree(t, filepath.Dir(path), map[string]string{"a.ndjson": webhookMsg + "\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.LoadEventFile(ctx, path, false); err == nil {
		t.Fatal("a cancelled load succeeded")
	}
	if n := count(t, s, `SELECT count(*) FROM input_files`); n != 0 {
		t.Fatalf("%d files remembered after an interrupted load", n)
	}
	if l, err := s.LoadEventFile(context.Background(), path, false); err != nil || l.AlreadyLoaded || l.Loaded != 1 {
		t.Fatalf("load after the interruption: %+v %v", l, err)
	}
}
