import Glibc

/// Standard output is a pipe under systemd and in tests, where it is block-buffered; the
/// listening line must appear at once.
func fflushStandardOutput() {
    fflush(nil)  // all output streams; avoids touching the global `stdout` from concurrent code
}
