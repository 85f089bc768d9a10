package monthclose

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mauledger/mauledger/internal/fail"
)

// lockName is the lock file in the output folder. It is never removed, so
// that two closes always lock the same file; an empty file is a free lock.
const lockName = ".mauledger-close.lock"

// ErrLocked means another close is running on the same output folder.
var ErrLocked = errors.New("another close is running")

// holder is who holds the lock, as the lock file says.
type holder struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	StartedAt time.Time `json:"started_at"`
}

// closeLock is the output folder's lock, held for a whole close.
type closeLock struct{ f *os.File }

// takeLock takes the output folder's lock, or fails with ErrLocked (exit
// 4) naming the close that holds it. The kernel releases the lock when its
// process ends, however it ends; a lock file that still names a holder
// then is a close that was killed, and is taken over with a warning.
func takeLock(dir string, now time.Time, log *slog.Logger) (*closeLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fail.Store(fmt.Errorf("lock %s: %w", path, err))
	}
	var was holder
	body, _ := io.ReadAll(f)
	known := json.Unmarshal(body, &was) == nil
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			if known {
				return nil, fail.Store(fmt.Errorf("%w on %s: pid %d on %s since %s", ErrLocked, dir, was.PID, was.Host,
					was.StartedAt.Format(time.RFC3339)))
			}
			return nil, fail.Store(fmt.Errorf("%w on %s", ErrLocked, dir))
		}
		return nil, fail.Store(fmt.Errorf("lock %s: %w", path, err))
	}
	// Read again under the lock: the holder may have just finished.
	body, _ = io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if json.Unmarshal(body, &was) == nil {
		log.Warn("took over the lock of a close that is gone", "pid", was.PID, "host", was.Host, "started_at", was.StartedAt)
	}
	host, _ := os.Hostname()
	me, _ := json.Marshal(holder{PID: os.Getpid(), Host: host, StartedAt: now})
	if err := rewrite(f, me); err != nil {
		f.Close()
		return nil, fail.Store(fmt.Errorf("lock %s: %w", path, err))
	}
	return &closeLock{f}, nil
}

// release empties the lock file and lets the next close take it.
func (l *closeLock) release() {
	rewrite(l.f, nil)
	l.f.Close() // closing releases the lock
}

func rewrite(f *os.File, body []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(body, 0); err != nil {
		return err
	}
	return f.Sync()
}
