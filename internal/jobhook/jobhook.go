// Package jobhook holds package job's hooks for tests: they are no part of
// job's API. Set them only while no job is open.
package jobhook

// Check, when not nil, is called before each quick_check of a job file,
// whole saying it has no time budget: tests count the checks with it.
var Check func(path string, whole bool)
