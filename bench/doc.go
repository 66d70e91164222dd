// Package bench measures autoradio side by side with the reference servers
// (nginx, Knot DNS, Icecast alone) on this machine, and writes
// docs/BENCHMARKS.md. The measurements run with `make bench` (bench/run),
// which runs this package's tests built with the "bench" tag; the files
// without the tag hold what they share: parsing the tools' output,
// medians and the report, tested by the ordinary test suite.
package bench
