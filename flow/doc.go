// Package flow reads and runs flow files: named steps (an HTTP request or
// a process to run) joined by "needs" edges into a directed acyclic graph,
// and an optional output built from the steps' results. Parse reads and
// validates a flow; an Engine runs it, once (Engine.Run) or once per input
// record (Stage, a run.Stage: the work of gather run --input).
//
//	steps:
//	  login:
//	    http:
//	      method: POST
//	      url: https://api.example.com/login
//	      json: {user: "${{ .input.user }}"}
//	  items:
//	    http:
//	      url: https://api.example.com/items?token=${{ .steps.login.body.token }}
//	  each:
//	    for_each: ${{ .steps.items.body.items }}
//	    concurrency: 4
//	    exec:
//	      command: [./process, "${{ .item.id }}"]
//	output: ${{ .steps.items.body }}
//
// # Positions
//
// Parse decodes the file into go.yaml.in/yaml/v3's node tree, not into Go
// structs, and walks that tree itself: every node keeps its line and column,
// so every error names the exact place (FILE:LINE:COL) of the key, value or
// list item at fault. An error inside an expression points at the offending
// token when the string is written on one line as it is (plain, or quoted
// without escapes: Parse checks the file's text), otherwise at the start of
// the string. Columns count characters, as yaml.v3's do. A value shared
// through a YAML alias is checked at each use, and its errors reported once.
//
// A YAML syntax error stops parsing: it is the one error reported, at the
// line yaml.v3 gives (column 1); for an unclosed collection that is the
// line where the collection starts.
//
// Otherwise Parse reports all the errors it finds, sorted by position, as an Errors
// list of *Error, not just the first: a user fixes a flow in one pass.
//
// # Why the graph is checked first
//
// A flow may POST, delete or charge: running half of it and then failing on
// a typo in its last step can leave work done that cannot be undone. So a
// flow is refused before anything runs when a step needs (or refers to) a
// step that does not exist, when the needs form a cycle (which would
// deadlock: each step waiting for another), when an expression does not
// compile, or when any key, type or duration is wrong. A valid flow has a
// topological order (Flow.Order), in which every step comes after all it
// needs. Each cycle is reported once, at its first step by name, as the
// shortest cycle from that step back to itself ("needs cycle: a -> b -> c
// -> a": a needs b, b needs c, c needs a).
//
// # Implied needs
//
// Expressions are ${{ jq }} templates (package template). A step whose
// expressions (in http, exec, if, for_each, assert) mention .steps.NAME
// needs NAME, as if NAME were listed in its needs. The detection is
// textual: it looks for ".steps." followed by a name in the text of every
// expression (from the first "${{" of a string to its end). It catches
// .steps.a.body and .steps.a | ...; it does not catch a dynamic access such
// as .steps["a"], .steps[$name] or .steps | .a, nor a reference built at
// run time; such steps must be listed in needs by hand. It may see a
// reference inside a jq string literal (".steps.a" written as text), which
// at worst adds an edge. Step names are therefore restricted to letters,
// digits and _ (not starting with a digit), the names jq can write after a
// dot. References in output are checked (the step must exist) but imply
// nothing: output is built once every step is done.
//
// # Running
//
// Engine.Run starts every step the moment all it needs has ended (one
// goroutine per step, owned and waited for by Run), so steps with no path
// between them run concurrently and a chain runs one step after another.
// What an expression sees:
//
//	.input        the record (a CSV row's or JSONL object's fields, a plain
//	              line's text, null for a flow run once)
//	.steps.NAME   the result of each step it needs (all steps, in output)
//	.item .index  in a for_each step, the item and its index
//
// An http step's result is {status, headers, body, text, ms, error}:
// headers have lower-case names (several values joined by ", "), body is
// the decoded JSON when the Content-Type is JSON (application/json, or a
// +json type; numbers kept exactly as written) and null otherwise, text is
// the body as text. An exec step's is {exit_code, stdout, stderr, ms,
// error}. error is {kind, message} or null. A for_each step's result is
// the list of its items' results, in the items' order; a skipped step's is
// null. An assert sees the step's own result fields at the top level
// (${{ .status == 200 }}), with .input and .steps.
//
// A string that is exactly one ${{ }} takes the expression's value with
// its JSON type (a number stays a number, a body passes whole); a string
// with text around expressions is interpolated (template.Value). Each
// evaluation is bounded by Config.Limits: 1 s by default, and 8 MiB of
// interpolated text (a whole value, built by one expression, is bounded by
// the time only: template.Value).
//
// # Failures
//
//   - An http step fails on a transport error or a status that is not 2xx
//     (kind http_status; its result still has the status, headers and
//     body). An exec step fails when the process exits non-zero
//     (exit_status), is killed by a signal (signal), cannot start (start),
//     writes more than Config.MaxOutput (too_large, and it is stopped), or
//     runs past exec's timeout (timeout). An expression that fails or gives
//     the wrong type fails its step (expression); a false assert fails it
//     with a message naming the assert (assert).
//   - retries: N runs a failed step (or item) again, up to N times, after
//     a back-off of 200 ms doubling to 10 s with jitter, whatever made it
//     fail but what running it again cannot change: an expression, a
//     request that cannot be made (bad_input), a program that cannot
//     start (start). A cancel during the back-off ends the step canceled. An http step's transient
//     failures are also retried inside each run by the fetch.Client
//     (Config.Retries, Retry-After).
//   - timeout bounds each run of the step (each retry, each item): past it
//     the step fails with kind timeout, its request cancelled or its
//     process stopped (SIGTERM, then SIGKILL after Config.Grace).
//   - if: false skips the step, recorded as skipped ("if was false"); the
//     steps that need it still run, seeing null. An if or an assert must
//     give a boolean: true or false, null (false), or the text "true" or
//     "false" in any case (a CSV field); anything else fails the step
//     (expression) rather than take jq's truth, in which "false", "" and
//     0 are true.
//   - A required step that fails makes every step that needs it, directly
//     or not, skipped ("dependency failed"), and the run failed: its
//     Result.Err names the first failed step in the flow's Order. Steps
//     that do not depend on it still run. An optional step's failure fails
//     nothing: the steps that need it run and see its error.
//   - for_each runs at most concurrency items at once (DefaultConcurrency,
//     8, when not given), over at most Config.MaxItems items (100,000 by
//     default; a longer list fails the step, too_large); once an item fails (after its retries), items not
//     started are not run, and the step fails naming the first failed item.
//   - When the run's context ends, steps in flight are cancelled, the
//     others are not started (canceled), and the result is Canceled: per
//     record, it is not stored by a job and runs again on resume.
//   - cache: D keeps an http GET or HEAD step's successful answers for D,
//     shared by every run on the Engine (every record, every request of a
//     gateway), keyed by the step, method, URL and headers; less when the
//     answer's Cache-Control says max-age or s-maxage, not at all for
//     no-store, no-cache or private, nor above CacheMaxBody (64 KiB);
//     CacheEntries (4,096) answers at most, the least recently used
//     dropped first. Runs missing the same answer at once share one
//     request (the others wait for it, as long as its maker's timeouts
//     allow). A result from the cache, or shared, has "cached": true.
//
// The output is built once every step has ended, only when the run
// succeeded; by default it is each step's status, time and error.
//
// # Costs
//
// On a fast upstream, building a response's result costs more than the
// request: decoding a JSON body, copying its text, making the header map.
// So an http step builds only the fields that some expression of the
// flow may read, found in the flow's text as for implied needs:
// .steps.NAME.body, .text and .headers (and body, text or headers named
// in the step's own asserts). A reference the text does not follow to a
// field (.steps.NAME | ..., .steps.NAME[...], .steps[$x], .steps | keys)
// builds every field, and so does any expression that reaches the data
// other than by paths of names (${{ . }}, tojson, .., getpath,
// .["steps"], to_entries: its jq is parsed to find out). The fields no
// expression reads are null in StepResult.Value. A JSON body that every
// expression reads only as .steps.NAME.body.KEY (KEY a name) is checked
// whole but decoded only at those keys: of an object, .body holds those
// of the keys it has (a step's assert that mentions body, or any other
// reference to .steps.NAME.body, decodes it whole). A step
// that is the only thing left to do runs on Run's own goroutine, so a
// chain of steps starts no goroutine. bench/flow measures what a flow
// costs against gather fetch doing the same requests.
package flow
