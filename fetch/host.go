package fetch

import "strings"

// HostOf returns the host[:port] of an http or https URL as written, without
// any user information, or "" for another string: the host of the summary's
// tables and of a job file's results.
func HostOf(u string) string {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "https://"); !ok {
			return ""
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:] // never report credentials
	}
	return host
}
