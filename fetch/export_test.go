package fetch

// HostStates returns the number of hosts whose state c holds, for the
// tests of package fetch_test.
func HostStates(c *Client) int { return c.hostCount() }
