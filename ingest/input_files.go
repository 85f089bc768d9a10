package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// EventFiles lists the files that path names for `ingest events`, in the
// order to load them. A path that is not a directory is itself. A
// directory gives every regular file under it, at any depth, in the order
// of their paths (so a Firehose archive's YYYY/MM/DD/HH folders load in
// time order), leaving out hidden files and folders, whose names start
// with a dot (.DS_Store, .git, partial downloads).
func EventFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == path {
			return nil // named by the caller, even if hidden (".")
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		// A symbolic link counts when it leads to a regular file.
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// WalkDir sorts each folder's entries, not whole paths: "01-x" would
	// follow "01/...".
	sort.Strings(files)
	return files, nil
}

// FileLoad is what LoadEventFile did with one file.
type FileLoad struct {
	EventsResult // Name is the path as given
	// AlreadyLoaded means a file with the same path, size and SHA-256 was
	// loaded before: it was not loaded again.
	AlreadyLoaded bool
}

// LoadEventFile loads the events of the file at path (LoadEvents), unless
// the same file was loaded before: same path, size and SHA-256 of its
// bytes as stored. force loads it anyway. A regular file is remembered
// once its events are stored, so an interrupted load is redone; anything
// else (a pipe) is read every time.
func (s *Store) LoadEventFile(ctx context.Context, path string, force bool) (FileLoad, error) {
	load := FileLoad{EventsResult: EventsResult{Name: path}}
	f, err := os.Open(path)
	if err != nil {
		return load, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return load, err
	}
	if !info.Mode().IsRegular() {
		load.EventsResult, err = s.LoadEvents(ctx, path, f)
		return load, err
	}
	key, err := filepath.Abs(path)
	if err != nil {
		return load, err
	}
	if !force {
		seen, err := s.loadedBefore(ctx, key, info.Size(), f)
		if err != nil || seen {
			load.AlreadyLoaded = seen
			return load, err
		}
	}
	// Hashed as it is read, so that a new file is read once.
	sum := &hashCount{h: sha256.New()}
	load.EventsResult, err = s.LoadEvents(ctx, path, io.TeeReader(f, sum))
	if err != nil {
		return load, err
	}
	// The reader may stop early (a corrupt gzip stream): hash the rest.
	if _, err := io.Copy(sum, f); err != nil {
		return load, err
	}
	r := load.EventsResult
	if _, err := s.DB.ExecContext(ctx, `INSERT OR REPLACE INTO input_files VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)`,
		key, sum.n, hex.EncodeToString(sum.h.Sum(nil)), r.Events, r.Loaded, len(r.Rejected)); err != nil {
		return load, fmt.Errorf("remember %s: %w", path, err)
	}
	return load, nil
}

// loadedBefore says whether the file f at key, size bytes long, is one
// already loaded. Its bytes are hashed only when the size matches, and f
// is left at its start.
func (s *Store) loadedBefore(ctx context.Context, key string, size int64, f *os.File) (bool, error) {
	var knownSize int64
	var knownSum string
	err := s.DB.QueryRowContext(ctx, `SELECT size, sha256 FROM input_files WHERE path = ?`, key).Scan(&knownSize, &knownSum)
	if errors.Is(err, sql.ErrNoRows) || err == nil && knownSize != size {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read loaded files: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == knownSum, nil
}

// hashCount hashes and counts the bytes written to it.
type hashCount struct {
	h hash.Hash
	n int64
}

func (c *hashCount) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}
