package analysis

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropFromPageCache asks the kernel to forget f's cached pages (a
// benchmark's base, once copied). It is advice: an error changes nothing
// that the benchmark measures but its noise.
func dropFromPageCache(f *os.File) {
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
