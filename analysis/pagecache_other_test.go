//go:build !linux

package analysis

import "os"

// dropFromPageCache does nothing here: see pagecache_linux_test.go.
func dropFromPageCache(*os.File) {}
