package gather_test

import "runtime"

func runtimeGoexit() { runtime.Goexit() }
