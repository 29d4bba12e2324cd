//go:build race

package task

// raceEnabled: the kill -9 test spawns race-instrumented children, which is
// slow and checks nothing the in-process crash test does not.
const raceEnabled = true
