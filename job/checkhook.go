package job

// CheckHook, when not nil, is called before each quick_check of a job
// file, whole saying it has no time budget. For tests, to count the
// checks; set it while no job is open.
//
// Deprecated: tests set internal/jobhook.Check; this goes once
// cmd/gather's tests do.
var CheckHook func(path string, whole bool)
