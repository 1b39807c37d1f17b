package gather_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gogather/gather"
)

// upstream is a real HTTP server on 127.0.0.1 for the examples: GET /item/N
// answers "item N" after ?delay milliseconds; POST /echo answers what it got.
// It counts the requests in progress and the most seen at once.
type upstream struct {
	*httptest.Server
	now, peak atomic.Int64
}

func newUpstream() *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := u.now.Add(1)
		defer u.now.Add(-1)
		for p := u.peak.Load(); n > p && !u.peak.CompareAndSwap(p, n); p = u.peak.Load() {
		}
		if d := r.URL.Query().Get("delay"); d != "" {
			ms, _ := time.ParseDuration(d + "ms")
			select {
			case <-time.After(ms):
			case <-r.Context().Done():
				return
			}
		}
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "posted %q", body)
			return
		}
		fmt.Fprint(w, strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/"), "/", " "))
	}))
	return u
}

func (u *upstream) close() {
	u.Client().CloseIdleConnections()
	u.Server.Close()
}

// get fetches url and returns its body.
func get(ctx context.Context, url string) (string, error) {
	return request(ctx, http.MethodGet, url, nil)
}

// post sends body to url and returns the answer's body.
func post(ctx context.Context, url, body string) (string, error) {
	return request(ctx, http.MethodPost, url, strings.NewReader(body))
}

func request(ctx context.Context, method, url string, body io.Reader) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return string(out), err
}

// Two unrelated requests run in parallel and their results are combined:
// asyncio.gather(fetch(a), fetch(b)).
func ExampleAll() {
	up := newUpstream()
	defer up.close()
	ctx := context.Background()

	bodies, err := gather.All(ctx,
		func(ctx context.Context) (string, error) { return get(ctx, up.URL+"/user/7?delay=100") },
		func(ctx context.Context) (string, error) { return get(ctx, up.URL+"/orders/7?delay=100") },
	)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(strings.Join(bodies, " + "))
	fmt.Println("both were in flight at once:", up.peak.Load() == 2)
	// Output:
	// user 7 + orders 7
	// both were in flight at once: true
}

// Three one-second tasks gathered in about one second, with the results in
// the order the tasks were given, not the order they finished.
func ExampleAll_threeSeconds() {
	task := func(name string, d time.Duration) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			select {
			case <-time.After(d):
				return name, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
	}
	start := time.Now()
	names, err := gather.All(context.Background(),
		task("A", time.Second), task("B", time.Second-20*time.Millisecond), task("C", time.Second-40*time.Millisecond))
	fmt.Println(names, err)
	fmt.Println("took about one second:", time.Since(start).Round(time.Second) == time.Second)
	// Output:
	// [A B C] <nil>
	// took about one second: true
}

// A dependency structure: the POST starts as soon as the GET it needs has
// answered, while an unrelated GET runs beside both.
func ExampleGo() {
	up := newUpstream()
	defer up.close()

	s := gather.NewScope(context.Background())
	profile := gather.Go(s, func(ctx context.Context) (string, error) {
		return get(ctx, up.URL+"/profile/42?delay=50")
	})
	saved := gather.Go(s, func(ctx context.Context) (string, error) {
		p, err := profile.Await(ctx) // waits for its prerequisite only
		if err != nil {
			return "", err
		}
		return post(ctx, up.URL+"/echo", p)
	})
	news := gather.Go(s, func(ctx context.Context) (string, error) {
		return get(ctx, up.URL+"/news/today?delay=80")
	})
	if err := s.Wait(); err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, f := range []*gather.Future[string]{profile, saved, news} {
		v, _ := f.Result()
		fmt.Println(v)
	}
	// Output:
	// profile 42
	// posted "profile 42"
	// news today
}

// as_completed: results in the order they finish, each with the argument it
// was started with.
func ExampleMap() {
	delays := []int{300, 100, 200} // milliseconds
	sleep := func(ctx context.Context, ms int) (string, error) {
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return fmt.Sprintf("slept %d ms", ms), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	for r := range gather.Map(context.Background(), slices.Values(delays), len(delays), sleep) {
		fmt.Printf("input #%d (%d): %s\n", r.Index, r.Input, r.Value)
	}
	// Output:
	// input #1 (100): slept 100 ms
	// input #2 (200): slept 200 ms
	// input #0 (300): slept 300 ms
}

// A limit of 3 over a list of URLs, results in input order: asyncio's
// Semaphore(3) around each fetch, without starting a task per URL up front.
func ExampleMap_limit() {
	up := newUpstream()
	defer up.close()
	var urls []string
	for i := range 9 {
		urls = append(urls, fmt.Sprintf("%s/page/%d?delay=%d", up.URL, i, 20+10*(i%3)))
	}
	for r := range gather.Map(context.Background(), slices.Values(urls), 3, get, gather.Ordered(6)) {
		fmt.Println(r.Index, r.Value, r.Err)
	}
	fmt.Println("most requests in flight at once:", up.peak.Load())
	// Output:
	// 0 page 0 <nil>
	// 1 page 1 <nil>
	// 2 page 2 <nil>
	// 3 page 3 <nil>
	// 4 page 4 <nil>
	// 5 page 5 <nil>
	// 6 page 6 <nil>
	// 7 page 7 <nil>
	// 8 page 8 <nil>
	// most requests in flight at once: 3
}

// An endless stream: Map reads inputs only as slots free up, so the input
// never has to fit in memory. Breaking out of the loop cancels what is in
// flight and waits for it before the loop statement ends.
func ExampleMap_endless() {
	naturals := func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	}
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	found := 0
	for r := range gather.Map(context.Background(), naturals, 8, square, gather.Ordered(16)) {
		if r.Value > 50 && r.Value%7 == 0 {
			fmt.Println(r.Input, "squared is", r.Value)
			if found++; found == 3 {
				break
			}
		}
	}
	// Output:
	// 14 squared is 196
	// 21 squared is 441
	// 28 squared is 784
}

// Per-host limits inside a global one: a slow host gets its share and no
// more; the fast host's inputs flow past it.
func ExampleMapKeyed() {
	slow, fast := newUpstream(), newUpstream()
	defer slow.close()
	defer fast.close()
	var urls []string
	for i := range 6 {
		urls = append(urls, fmt.Sprintf("%s/slow/%d?delay=300", slow.URL, i), fmt.Sprintf("%s/fast/%d", fast.URL, i))
	}
	host := func(url string) string { return strings.Split(url, "/")[2] }
	start := time.Now()
	var fastDone time.Duration
	for r := range gather.MapKeyed(context.Background(), slices.Values(urls), 4, gather.PerKey(2, host), get) {
		if strings.HasPrefix(r.Value, "fast") {
			fastDone = time.Since(start)
		}
	}
	fmt.Println("most in flight on the slow host:", slow.peak.Load())
	fmt.Println("fast host done before the slow host's first pair:", fastDone < 300*time.Millisecond)
	// Output:
	// most in flight on the slow host: 2
	// fast host done before the slow host's first pair: true
}

// wait(FIRST_COMPLETED) over mirrors of the same resource: take the first
// answer, then cancel the scope to stop the rest.
func ExampleWait() {
	up := newUpstream()
	defer up.close()
	s := gather.NewScope(context.Background())
	var mirrors []*gather.Future[string]
	for _, delay := range []int{300, 50, 200} {
		mirrors = append(mirrors, gather.Go(s, func(ctx context.Context) (string, error) {
			return get(ctx, fmt.Sprintf("%s/mirror/%d?delay=%d", up.URL, delay, delay))
		}))
	}
	done, pending, err := gather.Wait(context.Background(), gather.FirstCompleted, mirrors...)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	first, _ := done[0].Result()
	fmt.Println("first answer:", first, "- still pending:", len(pending))
	s.Cancel()
	err = s.Wait()
	fmt.Println("the others were cancelled:", errors.Is(err, context.Canceled))
	// Output:
	// first answer: mirror 50 - still pending: 2
	// the others were cancelled: true
}

// A timeout around a slow operation: asyncio.wait_for, or asyncio.timeout.
func ExampleFuture_Await_timeout() {
	up := newUpstream()
	defer up.close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s := gather.NewScope(ctx)
	slow := gather.Go(s, func(ctx context.Context) (string, error) {
		return get(ctx, up.URL+"/slow?delay=5000")
	})
	_, err := slow.Await(context.Background())
	fmt.Println("timed out:", errors.Is(err, context.DeadlineExceeded))
	fmt.Println("scope:", s.Wait() != nil)
	// Output:
	// timed out: true
	// scope: true
}

// CPU-bound work goes to the executor (run_in_executor) while requests keep
// flowing in the same scope.
func ExampleOffload() {
	up := newUpstream()
	defer up.close()
	s := gather.NewScope(context.Background())
	digest := gather.Go(s, func(ctx context.Context) (string, error) {
		return gather.Offload(ctx, func() (string, error) {
			sum := []byte("seed")
			for range 200_000 {
				h := sha256.Sum256(sum)
				sum = h[:]
			}
			return fmt.Sprintf("%x", sum[:4]), nil
		})
	})
	var pages []*gather.Future[string]
	for i := range 5 {
		pages = append(pages, gather.Go(s, func(ctx context.Context) (string, error) {
			return get(ctx, fmt.Sprintf("%s/page/%d", up.URL, i))
		}))
	}
	if err := s.Wait(); err != nil {
		fmt.Println("error:", err)
		return
	}
	var got []string
	for _, p := range pages {
		v, _ := p.Result()
		got = append(got, v)
	}
	d, _ := digest.Result()
	fmt.Println(strings.Join(got, "; "))
	fmt.Println("digest", d)
	// Output:
	// page 0; page 1; page 2; page 3; page 4
	// digest ad527270
}

// run_in_executor in one call: the CPU-bound function runs on an executor
// of two slots, and its future belongs to the scope, whose Wait joins it.
func ExampleGoOffload() {
	e := gather.NewExecutor(2)
	defer e.Close(context.Background())
	s := gather.NewScope(context.Background())
	var digests []*gather.Future[string]
	for _, seed := range []string{"a", "b", "c"} {
		digests = append(digests, gather.GoOffload(s, e, func() (string, error) {
			sum := sha256.Sum256([]byte(seed))
			for range 10_000 {
				sum = sha256.Sum256(sum[:])
			}
			return fmt.Sprintf("%s %x", seed, sum[:2]), nil
		}))
	}
	if err := s.Wait(); err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, d := range digests {
		v, _ := d.Result()
		fmt.Println(v)
	}
	// Output:
	// a de97
	// b 1cbc
	// c 89de
}

// A future made by hand and resolved later, with a done callback:
// asyncio's Future(), set_result and add_done_callback.
func ExamplePromise() {
	p := gather.NewPromise[string]()
	fut := p.Future()
	fut.OnDone(func(v string, err error) { fmt.Println("callback:", v, err) })

	waiter := make(chan string)
	go func() {
		v, _ := fut.Await(context.Background()) // blocks until Resolve
		waiter <- v
	}()
	p.Resolve("ready") // the callback runs here, in the resolving goroutine
	fmt.Println("awaited:", <-waiter)
	fmt.Println("second resolve:", p.Resolve("again"))
	fut.OnDone(func(v string, err error) { fmt.Println("late callback:", v, err) })
	// Output:
	// callback: ready <nil>
	// awaited: ready
	// second resolve: gather: promise already resolved
	// late callback: ready <nil>
}

// A panic in a task comes back to the waiter as an error with the panic
// value and stack; re-panic with it to crash instead.
func ExamplePanicError() {
	_, err := gather.All(context.Background(),
		func(context.Context) (int, error) { var m map[string]int; m["x"] = 1; return 0, nil },
	)
	if pe, ok := errors.AsType[*gather.PanicError](err); ok {
		fmt.Println("task panicked:", pe.Value)
		fmt.Println("stack shows the task:", strings.Contains(string(pe.Stack), "ExamplePanicError"))
		// panic(pe) here would crash with the original stack in the message.
	}
	// Output:
	// task panicked: assignment to entry in nil map
	// stack shows the task: true
}

// Completion order over futures already started.
func ExampleAsCompleted() {
	s := gather.NewScope(context.Background())
	var futs []*gather.Future[string]
	for _, ms := range []int{150, 50, 100} {
		futs = append(futs, gather.Go(s, func(ctx context.Context) (string, error) {
			time.Sleep(time.Duration(ms) * time.Millisecond)
			return fmt.Sprint(ms, "ms"), nil
		}))
	}
	for i, f := range gather.AsCompleted(context.Background(), futs...) {
		v, _ := f.Result()
		fmt.Println(i, v)
	}
	s.Wait()
	// Output:
	// 1 50ms
	// 2 100ms
	// 0 150ms
}

// Per-key limits for code that starts its own tasks.
func ExampleKeyedLimiter() {
	l := gather.NewKeyedLimiter[string](10, 1)
	ctx := context.Background()
	s := gather.NewScope(ctx)
	var inFlight, peak atomic.Int64
	for i := range 6 {
		gather.Go(s, func(ctx context.Context) (int, error) {
			if err := l.Acquire(ctx, "api.example.com"); err != nil {
				return 0, err
			}
			defer l.Release("api.example.com")
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(5 * time.Millisecond)
			return i, nil
		})
	}
	fmt.Println(s.Wait(), "- at most", peak.Load(), "at once on the key")
	// Output:
	// <nil> - at most 1 at once on the key
}
