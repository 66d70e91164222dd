// Package scripts holds the tests of the shell scripts in this directory,
// which configure nodes, build packages and run a demo node. It has no
// code of its own.
package scripts
